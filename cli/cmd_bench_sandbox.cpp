// `r1 bench sandbox`: how fast untrusted code runs through the full isolation.
//
// Three figures, printed as one JSON line per measurement and a summary:
//   - latency: median wall time of one trivial Python program (print("ok")) through sandbox::run(), run
//     sequentially, beside the median of the same program started bare (posix_spawn of
//     `python3 -c 'print("ok")'` + wait) in the same process; the difference is the isolation overhead;
//   - throughput: executions per second of that program through a sandbox::Pool with --workers workers;
//   - optionally (--humaneval / --mbpp FILE) the code reward on a dataset's reference solutions: how many
//     pass and how long the whole set takes (the full MBPP set is checked here rather than in the tests).
// Not a test: nothing is asserted; numbers go to BENCHMARKS.md with the machine and the command.
#include <CLI/CLI.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cli/bench_stats.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/error.h"
#include "rewards/code/code_reward.h"
#include "sandbox/pool.h"
#include "sandbox/sandbox.h"

extern char** environ;

namespace r1::cli {

namespace {



constexpr const char* kTrivialProgram = "print(\"ok\")\n";

double bare_python_once() {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  char* argv[] = {const_cast<char*>("/usr/bin/python3"), const_cast<char*>("-B"), const_cast<char*>("-c"),
                  const_cast<char*>(kTrivialProgram), nullptr};
  const auto t0 = SteadyClock::now();
  pid_t pid;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  R1_CHECK(rc == 0, "bench sandbox: cannot start /usr/bin/python3");
  int status = 0;
  waitpid(pid, &status, 0);
  return seconds_since(t0);
}

sandbox::Request trivial_request() {
  sandbox::Request request;
  request.language = "python";
  request.source = kTrivialProgram;
  return request;
}

void bench_reference_solutions(const std::string& path, const std::string& format, size_t workers, double timeout_s) {
  rewards::CodeRewardOptions options;
  options.format = enum_from_name<rewards::CodeFormat>(format, "--format");
  options.timeout_s = timeout_s;
  options.score = rewards::CodeScore::Binary;
  const rewards::ReferenceReport report = rewards::check_reference_solutions(path, options, workers);
  std::printf("{\"bench\": \"reference_solutions\", \"file\": \"%s\", \"format\": \"%s\", \"problems\": %zu, "
              "\"passed\": %zu, \"seconds\": %.2f, \"problems_per_s\": %.1f, \"workers\": %zu}\n",
              path.c_str(), format.c_str(), report.checks.size(), report.passed, report.seconds,
              report.seconds > 0 ? static_cast<double>(report.checks.size()) / report.seconds : 0.0, workers);
  for (const auto& c : report.checks) {
    if (!c.passed) std::printf("  failed %s: %s\n", c.id.c_str(), c.reason.c_str());
  }
}

}  // namespace

void add_sandbox_bench_commands(CLI::App& bench) {
  CLI::App* cmd = bench.add_subcommand("sandbox", "Sandbox latency and throughput (trivial Python program)");
  auto runs = std::make_shared<size_t>(200);
  auto latency_runs = std::make_shared<size_t>(30);
  auto workers = std::make_shared<size_t>(0);
  auto humaneval = std::make_shared<std::string>();
  auto mbpp = std::make_shared<std::string>();
  auto reference_timeout = std::make_shared<double>(10.0);
  cmd->add_option("--runs", *runs, "Executions for the throughput figure");
  cmd->add_option("--latency-runs", *latency_runs, "Sequential executions for the latency medians");
  cmd->add_option("--workers", *workers, "Concurrent sandboxes (0: 2 x CPUs)");
  cmd->add_option("--humaneval", *humaneval, "Also check every canonical solution of this HumanEval JSONL");
  cmd->add_option("--mbpp", *mbpp, "Also check every reference solution of this MBPP JSONL");
  cmd->add_option("--reference-timeout-s", *reference_timeout,
                  "Per-test limit for the reference checks (MBPP 123 needs ~2 s of CPU alone)");
  cmd->callback([=] {
    const size_t cpus = std::max(1u, std::thread::hardware_concurrency());
    const size_t w = *workers > 0 ? *workers : 2 * cpus;
    const std::string probe = sandbox::probe_isolation();
    R1_CHECK(probe.empty(), "bench sandbox: the sandbox does not work here: ", probe);

    std::vector<double> bare, boxed;
    for (size_t i = 0; i < *latency_runs; ++i) {
      bare.push_back(bare_python_once());
      const auto t0 = SteadyClock::now();
      const sandbox::Result r = sandbox::run(trivial_request());
      boxed.push_back(seconds_since(t0));
      R1_CHECK(r.status == sandbox::Status::ok, "bench sandbox: trivial run failed: ", r.message);
    }
    const double bare_ms = 1000 * median(bare), boxed_ms = 1000 * median(boxed);
    std::printf("{\"bench\": \"latency\", \"runs\": %zu, \"bare_python_ms\": %.1f, \"sandbox_ms\": %.1f, "
                "\"overhead_ms\": %.1f}\n",
                *latency_runs, bare_ms, boxed_ms, boxed_ms - bare_ms);

    sandbox::Pool pool(w);
    std::vector<sandbox::Request> requests(*runs, trivial_request());
    const auto t0 = SteadyClock::now();
    const std::vector<sandbox::Result> results = pool.run_all(requests);
    const double elapsed = seconds_since(t0);
    const size_t ok = std::count_if(results.begin(), results.end(),
                                    [](const sandbox::Result& r) { return r.status == sandbox::Status::ok; });
    std::printf("{\"bench\": \"throughput\", \"runs\": %zu, \"ok\": %zu, \"workers\": %zu, \"cpus\": %zu, "
                "\"seconds\": %.2f, \"runs_per_s\": %.1f}\n",
                *runs, ok, w, cpus, elapsed, static_cast<double>(*runs) / elapsed);
    if (!humaneval->empty()) bench_reference_solutions(*humaneval, "humaneval", w, *reference_timeout);
    if (!mbpp->empty()) bench_reference_solutions(*mbpp, "mbpp", w, *reference_timeout);
  });
}

}  // namespace r1::cli
