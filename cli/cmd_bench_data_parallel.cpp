// `r1 bench data_parallel`: pretraining tokens/s of one process with T intra-op threads against N processes with
// T/N threads each (data parallelism over c10d Gloo, dist/world.h), and the time of the gradient all-reduce per
// step, for the tiny model of recipes/tiny_r1_zero.json and a ~100M DeepSeek-V3 shape (cli/bench_shapes.h).
//
// Both layouts run the real stage: a pretrain recipe (a synthetic corpus of --len-token texts, a byte-level
// tokenizer) is written to a temporary directory and `r1 run` is started as child processes by the launcher
// (dist/launcher.h) — one rank, then N ranks — exactly as `r1 run --nproc-per-node N` starts them. The figures
// are medians over steps 2..N of the stage's metrics: tokens_per_s (the job's, every rank's share counted),
// step_s, and allreduce_s (the gradient sum as rank 0 waits for it after the backward pass, the slowest rank
// included). The N-rank layout runs twice: with the buckets sent during the backward pass
// (optim.overlap_allreduce, rl/gradient_reducer.h) and with all of them sent after it.
// Figures go to BENCHMARKS.md with the exact command; nothing here is a test.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <thread>

#include "cli/bench_shapes.h"
#include "cli/commands.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/jsonl.h"
#include "dist/launcher.h"

namespace r1::cli {
namespace {

struct BenchArgs : ShapeBenchOptions {
  BenchArgs() : ShapeBenchOptions("tiny") {}
  int nproc = 2;
  int64_t steps = 0, batch = 0, len = 0;  // 0: the shape's default
};

struct Shape {
  std::string name;
  std::string config;
  int64_t steps, batch, len;  // defaults
};

struct Layout {
  int processes = 1, threads = 1;
  bool overlap = true;
  double tokens_per_s = 0, step_s = 0, allreduce_s = 0;
};

struct Result {
  std::string name;
  model::ParameterCounts params;
  int64_t steps = 0, batch = 0, len = 0;
  std::vector<Layout> layouts;
};

// Median over steps 2..N of a metric of the stage (0 when no line has it).
double median_metric(const std::string& run_dir, const char* key) {
  std::vector<double> v;
  for_each_jsonl(path_join(run_dir, "metrics.jsonl"), [&](size_t, const json::Value& row) {
    if (json::find(row, key) && row["step"].GetInt64() > 1) v.push_back(row[key].GetDouble());
  });
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Runs the recipe as `processes` ranks of `threads` threads each; returns the layout's figures.
Layout run_layout(const std::string& recipe, const std::string& out, int processes, int threads, bool overlap) {
  dist::LaunchOptions lo;
  lo.nproc = processes;
  const dist::LaunchResult r = dist::launch_local(
      {"/proc/self/exe", "run", recipe, "--output", out, "--quiet", "--set",
       "stages.base.threads=" + std::to_string(threads), "--set",
       std::string("stages.base.optim.overlap_allreduce=") + (overlap ? "true" : "false")},
      lo);
  R1_CHECK(r.status == 0, "r1 bench data_parallel: ", processes, " x ", threads, " failed: ", r.message);
  Layout l;
  l.processes = processes;
  l.threads = threads;
  l.overlap = overlap;
  l.tokens_per_s = median_metric(out, "tokens_per_s");
  l.step_s = median_metric(out, "step_s");
  l.allreduce_s = median_metric(out, "allreduce_s");
  return l;
}

Result run_shape(const Shape& s, const BenchArgs& a, const std::string& root) {
  Result r;
  r.name = s.name;
  r.params = shape_parameters(s.config, "r1 bench data_parallel: " + s.name);
  r.steps = a.steps > 0 ? a.steps : s.steps;
  r.batch = a.batch > 0 ? a.batch : s.batch;
  r.len = a.len > 0 ? a.len : s.len;
  const std::string dir = shape_dir(root, s.name);
  std::string corpus;
  for (int64_t i = 0; i < r.batch * r.steps; ++i) {
    corpus += "{\"text\": \"" + bench_words(i, r.len / 5) + "\"}\n";  // ~5 bytes per word, one token per byte
  }
  write_file_atomic(path_join(dir, "corpus.jsonl"), corpus);
  const std::string recipe = path_join(dir, "recipe.json");
  write_file_atomic(recipe, R"({"name": "bench_data_parallel", "seed": 1, "stages": [
     {"name": "base", "type": "pretrain",
     "model": {"init_config": )" + s.config + R"(, "byte_level_tokenizer": ["<|endoftext|>"]},
     "data": ")" + path_join(dir, "corpus.jsonl") + R"(", "steps": )" + std::to_string(r.steps) +
                                R"(, "batch_size": )" + std::to_string(r.batch) + R"(, "max_len": )" +
                                std::to_string(r.len) + R"(, "pack": false, "save_every": 0, "save_every_minutes": 0,
     "optim": {"lr": 1e-4}}]})");
  const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  r.layouts.push_back(run_layout(recipe, path_join(dir, "1x" + std::to_string(threads)), 1, threads, true));
  const int per_rank = std::max(1, threads / a.nproc);
  const std::string layout = std::to_string(a.nproc) + "x" + std::to_string(per_rank);
  r.layouts.push_back(run_layout(recipe, path_join(dir, layout), a.nproc, per_rank, true));
  r.layouts.push_back(run_layout(recipe, path_join(dir, layout + "-after"), a.nproc, per_rank, false));
  return r;
}

void print_results(const std::vector<Result>& results, bool as_json) {
  if (as_json) {
    for (const Result& r : results) {
      for (const Layout& l : r.layouts) {
        std::printf("{\"model\": \"%s\", \"params\": %lld, \"steps\": %lld, \"batch\": %lld, \"len\": %lld, "
                    "\"processes\": %d, \"threads\": %d, \"overlap\": %s, \"tokens_per_s\": %.1f, "
                    "\"step_s\": %.3f, \"allreduce_s\": %.4f}\n",
                    r.name.c_str(), static_cast<long long>(r.params.total), static_cast<long long>(r.steps),
                    static_cast<long long>(r.batch), static_cast<long long>(r.len), l.processes, l.threads,
                    l.overlap ? "true" : "false", l.tokens_per_s, l.step_s, l.allreduce_s);
      }
    }
    return;
  }
  std::printf("%-6s %10s %12s %14s %9s %12s %9s %13s %10s\n", "model", "params", "batch x len", "procs x thr",
              "buckets", "tokens/s", "step s", "all-reduce s", "share");
  for (const Result& r : results) {
    for (const Layout& l : r.layouts) {
      std::printf("%-6s %9.2fM %6lld x %-4lld %9d x %-2d %9s %12.0f %9.3f %13.4f %9.1f%%\n", r.name.c_str(),
                  static_cast<double>(r.params.total) / 1e6, static_cast<long long>(r.batch),
                  static_cast<long long>(r.len), l.processes, l.threads,
                  l.processes == 1 ? "-" : (l.overlap ? "during" : "after"), l.tokens_per_s, l.step_s, l.allreduce_s,
                  l.step_s > 0 ? 100.0 * l.allreduce_s / l.step_s : 0.0);
    }
  }
  std::printf("\nmedians over steps 2..N of the pretrain stage's metrics; tokens/s counts every rank's rows; buckets: "
              "the gradient buckets sent during the backward pass or after it (optim.overlap_allreduce); the "
              "all-reduce is the wait for the gradient sum after the backward pass as rank 0 sees it, the slower "
              "rank included\n");
}

}  // namespace

void add_data_parallel_bench_commands(CLI::App& bench) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "data_parallel", "pretraining tokens/s of 1 process x T threads vs N processes x T/N threads (c10d Gloo), and "
                       "the gradient all-reduce time per step");
  args->add_to(*cmd);
  cmd->add_option("--nproc", args->nproc, "processes of the data-parallel layout")->check(CLI::Range(2, 64));
  cmd->add_option("--steps", args->steps, "optimizer steps per layout (0: tiny 12, 100m 6)");
  cmd->add_option("--batch", args->batch, "sequences per step (0: tiny 32, 100m 8)");
  cmd->add_option("--len", args->len, "tokens per sequence (0: tiny 256, 100m 256)");
  cmd->callback([args] {
    const Shape tiny{"tiny", kTinyConfig, 12, 32, 256};
    const Shape big{"100m", k100mConfig, 6, 8, 256};
    const auto results = run_shapes("data_parallel", args->model, args->keep, tiny, big,
                                    [&](const Shape& s, const std::string& root) { return run_shape(s, *args, root); });
    print_results(results, args->json);
  });
}

}  // namespace r1::cli
