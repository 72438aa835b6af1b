// `r1 bench math`: math verifications per second on realistic completions (rewards/math/math_bench.h),
// single-threaded and on all threads, plus the share of verdicts that match the pairs' expected ones.
//
//   r1 bench math [--pairs 2000] [--seconds 3] [--threads 0] [--golds FILE.jsonl] [--seed 1]
//
// --golds takes a JSONL file with an "answer" field per line (e.g. MATH-500) instead of the built-in
// gold list. Figures go to BENCHMARKS.md with the machine and the command.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "common/error.h"
#include "common/jsonl.h"
#include "rewards/math/math_bench.h"

namespace r1::cli {
namespace {

struct BenchArgs {
  size_t pairs = 2000;
  double seconds = 3.0;
  size_t threads = 0;
  std::string golds;
  uint64_t seed = 1;
};

void run_bench(const BenchArgs& args) {
  std::vector<std::string> golds;
  if (!args.golds.empty()) {
    for_each_jsonl(args.golds, [&](size_t line, const json::Value& row) {
      golds.push_back(json::get_string(row, "answer", args.golds + ":" + std::to_string(line)));
    });
  }
  auto pairs = rewards::math::make_bench_pairs(args.pairs, args.seed, golds);
  size_t chars = 0, expected_true = 0;
  for (const auto& p : pairs) {
    chars += p.completion.size();
    expected_true += p.expected ? 1 : 0;
  }
  size_t threads = args.threads ? args.threads : std::max(1u, std::thread::hardware_concurrency());
  std::printf("math verifier: %zu pairs, mean completion %zu chars (~%zu tokens), %zu expected correct\n",
              pairs.size(), chars / pairs.size(), chars / pairs.size() / 4, expected_true);
  auto one = rewards::math::run_math_bench(pairs, 1, args.seconds);
  std::printf("  1 thread : %10.0f verifications/s  (%zu in %.2f s, agreement %.4f)\n", one.per_second(),
              one.verifications, one.seconds, static_cast<double>(one.agreements) / static_cast<double>(one.verifications));
  auto all = rewards::math::run_math_bench(pairs, threads, args.seconds);
  std::printf("  %zu threads: %10.0f verifications/s  (%zu in %.2f s, agreement %.4f)\n", threads, all.per_second(),
              all.verifications, all.seconds, static_cast<double>(all.agreements) / static_cast<double>(all.verifications));
}

}  // namespace

void add_reward_bench_commands(CLI::App& bench) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* math = bench.add_subcommand("math", "Math verifier throughput on realistic 500-token completions");
  math->add_option("--pairs", args->pairs, "Distinct (gold, completion) pairs")->check(CLI::Range(1, 10000000));
  math->add_option("--seconds", args->seconds, "Minimum seconds per measurement");
  math->add_option("--threads", args->threads, "Threads for the parallel run (0 = all cores)");
  math->add_option("--golds", args->golds, "JSONL file whose \"answer\" fields are the golds (default: built-in)");
  math->add_option("--seed", args->seed, "Seed of the generated completions");
  math->callback([args] { run_bench(*args); });
}

}  // namespace r1::cli
