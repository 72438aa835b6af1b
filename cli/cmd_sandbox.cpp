// `r1 sandbox run` and `r1 sandbox check`: one program through the sandbox from the command line.
//
//   r1 sandbox run --lang LANG --file F [--stdin F]... [--timeout-s S] [--memory-mb M] [--json]
//                  [--arg A]... [--env NAME]... [--output-kb K] [--processes N] [--unsafe-rlimits-only]
//   r1 sandbox check
//
// Without --json, the program's stdout and stderr are copied to ours and a one-line summary goes to
// stderr; with --json the whole Result is printed (result_json.h). Several --stdin files run the program
// once per file in the same sandbox. --env passes a variable of *our* environment by name (nothing else
// of it reaches the program). Exit code: 0 when every run is ok, 3 when the program failed (any other
// status), 1 for usage or sandbox errors. Without --json, an rlimits-only run (and only that) ends with a
// WARNING line on stderr.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "common/fs.h"
#include "sandbox/languages.h"
#include "sandbox/result_json.h"
#include "sandbox/sandbox.h"

namespace r1::cli {

namespace {

struct RunArgs {
  std::string language = "python";
  std::string file;
  std::vector<std::string> stdin_files;
  double timeout_s = 10.0;
  double memory_mb = 512;
  bool json = false;
  std::vector<std::string> args;
  std::vector<std::string> env_names;
  int64_t output_kb = 1024;
  int64_t processes = 64;
  bool unsafe = false;
};

std::string human_bytes(int64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MB", static_cast<double>(b) / (1 << 20));
  return buf;
}

void print_summary(const char* what, const sandbox::Execution& e) {
  std::fprintf(stderr, "[sandbox] %s: %s", what, sandbox::status_name(e.status));
  if (e.exit_code >= 0) std::fprintf(stderr, " exit=%d", e.exit_code);
  if (e.signal != 0) std::fprintf(stderr, " signal=%d", e.signal);
  std::fprintf(stderr, " wall=%.3fs cpu=%.3fs mem=%s%s%s\n", e.wall_time_s, e.cpu_time_s,
               human_bytes(e.peak_memory_bytes).c_str(), e.message.empty() ? "" : " : ", e.message.c_str());
}

int run_command(const RunArgs& a) {
  sandbox::Request request;
  request.language = a.language;
  request.source = read_file(a.file);
  for (const std::string& f : a.stdin_files) request.inputs.push_back(read_file(f));
  request.args = a.args;
  for (const std::string& name : a.env_names) {
    const char* value = std::getenv(name.c_str());
    R1_CHECK(value != nullptr, "--env ", name, ": not set in this environment");
    request.env.emplace_back(name, value);
  }
  R1_CHECK(a.timeout_s > 0, "--timeout-s must be > 0");
  R1_CHECK(a.memory_mb >= 16, "--memory-mb must be >= 16");
  request.limits.wall_time_s = a.timeout_s;
  request.limits.cpu_time_s = a.timeout_s;
  request.limits.memory_bytes = static_cast<int64_t>(a.memory_mb * (1 << 20));
  request.limits.stdout_bytes = a.output_kb << 10;
  request.limits.stderr_bytes = a.output_kb << 10;
  request.limits.max_processes = a.processes;
  request.isolation = a.unsafe ? sandbox::Isolation::rlimits_only : sandbox::Isolation::namespaces;
  const sandbox::Result result = sandbox::run(request);
  if (a.json) {
    std::printf("%s\n", sandbox::result_to_json(result, true).c_str());
  } else {
    if (result.compile && result.compile->status != sandbox::Status::ok) {
      std::fwrite(result.compile->stderr_data.data(), 1, result.compile->stderr_data.size(), stderr);
      print_summary("compile", *result.compile);
    }
    for (size_t i = 0; i < result.runs.size(); ++i) {
      const sandbox::Execution& e = result.runs[i];
      std::fwrite(e.stdout_data.data(), 1, e.stdout_data.size(), stdout);
      std::fflush(stdout);
      std::fwrite(e.stderr_data.data(), 1, e.stderr_data.size(), stderr);
      print_summary(result.runs.size() > 1 ? ("run " + std::to_string(i + 1)).c_str() : "run", e);
    }
    if (result.isolation == sandbox::kUnsafeIsolation) {  // not for "namespaces, memory cgroup"
      std::fprintf(stderr, "[sandbox] WARNING: %s\n", result.isolation.c_str());
    }
  }
  if (result.status == sandbox::Status::sandbox_error) fail("sandbox: ", result.message);
  return result.status == sandbox::Status::ok ? 0 : 3;
}

}  // namespace

void add_sandbox_commands(CLI::App& app) {
  CLI::App* sb = app.add_subcommand("sandbox", "Run untrusted programs in the sandbox");
  sb->require_subcommand(1);

  auto a = std::make_shared<RunArgs>();
  CLI::App* run = sb->add_subcommand("run", "Run one program (Python, C++, C, bash) in full isolation");
  run->add_option("--lang", a->language, "Language: " + sandbox::language_list());
  run->add_option("--file", a->file, "The program's source file")->required()->check(CLI::ExistingFile);
  run->add_option("--stdin", a->stdin_files, "Stdin file; repeat to run once per file")->check(CLI::ExistingFile);
  run->add_option("--timeout-s", a->timeout_s, "Wall-clock and CPU limit per run, seconds");
  run->add_option("--memory-mb", a->memory_mb, "Address-space limit per process, MiB");
  run->add_flag("--json", a->json, "Print the whole result as JSON");
  run->add_option("--arg", a->args, "Program argument (repeatable)");
  run->add_option("--env", a->env_names, "Pass this variable of the current environment (repeatable)");
  run->add_option("--output-kb", a->output_kb, "Cap of stdout and of stderr, KiB");
  run->add_option("--processes", a->processes, "Process/thread limit of the sandbox user");
  run->add_flag("--unsafe-rlimits-only", a->unsafe,
                "Run WITHOUT namespaces (rlimits + seccomp only): for hosts that forbid them; unsafe");
  run->callback([a] {
    const int code = run_command(*a);
    if (code != 0) std::exit(code);
  });

  CLI::App* check = sb->add_subcommand("check", "Say whether full isolation works on this host");
  check->callback([] {
    const std::string problem = sandbox::probe_isolation();
    if (!problem.empty()) fail("sandbox check: ", problem);
    std::printf("sandbox: ok (user, PID, mount, network, IPC, UTS and cgroup namespaces; seccomp; rlimits) via %s\n",
                sandbox::helper_path().c_str());
  });
}

}  // namespace r1::cli
