// `r1 bench rejection`: throughput of the rejection_sampling stage — samples/s and kept/s of its sampling
// loop (generation, scoring, readability filters, shards) — for the tiny model of recipes/tiny_r1_zero.json
// and a ~100M DeepSeek-V3 shape (cli/bench_shapes.h). It runs the real stage: a recipe written to a
// temporary directory (synthetic arithmetic prompts, one reasoning source) goes through
// r1::rl::run_recipe and the figures are read back from the stage's stats.json.
//
// Random-init models emit random text that is never correct and never closes its think block, so the
// recipe judges with the repetition reward at threshold -100 (every sample "correct") and switches off the
// `truncated` and `no_answer` filters: every sample then goes down the whole keep path (the other five
// filters, duplicates, shards). This measures the machinery, not a trained model's acceptance rate.
// Figures go to BENCHMARKS.md with the exact command; nothing here is a test.
#include <CLI/CLI.hpp>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/bench_shapes.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "model/causal_lm.h"
#include "rl/pipeline.h"

namespace r1::cli {
namespace {

struct BenchArgs : ShapeBenchOptions {
  BenchArgs() : ShapeBenchOptions("tiny") {}
  int64_t prompts = 0, samples = 0, max_new = 0, batch = 0;  // 0: the shape's default
};

struct Shape {
  std::string name;
  std::string config;
  int64_t prompts, samples, max_new, batch;  // defaults
};

struct Result {
  std::string name;
  model::ParameterCounts params;
  int64_t prompts = 0, samples_per_prompt = 0, max_new = 0, batch = 0;
  int64_t samples = 0, kept = 0, tokens = 0;
  double sampling_s = 0, generate_s = 0, reward_s = 0, wall_s = 0;
};

Result run_shape(const Shape& s, const BenchArgs& a, const std::string& root) {
  Result r;
  r.name = s.name;
  r.prompts = a.prompts > 0 ? a.prompts : s.prompts;
  r.samples_per_prompt = a.samples > 0 ? a.samples : s.samples;
  r.max_new = a.max_new > 0 ? a.max_new : s.max_new;
  r.batch = a.batch > 0 ? a.batch : s.batch;
  r.params = shape_parameters(s.config, "r1 bench rejection: " + s.name);
  const std::string dir = shape_dir(root, s.name);
  std::string prompts;
  for (int64_t i = 0; i < r.prompts; ++i) {
    prompts += "{\"id\": " + std::to_string(i) + ", \"prompt\": \"What is " + std::to_string(17 * i % 97) + " + " +
               std::to_string(31 * i % 89) + "?\", \"answer\": \"" + std::to_string(17 * i % 97 + 31 * i % 89) +
               "\"}\n";
  }
  write_file_atomic(path_join(dir, "prompts.jsonl"), prompts);
  char opts[512];
  std::snprintf(opts, sizeof opts,
                R"("samples_per_prompt": %lld, "sampling": {"max_new_tokens": %lld}, "reward": "repetition",
                   "threshold": -100, "prompt_template": "r1_zero_think")",
                static_cast<long long>(r.samples_per_prompt), static_cast<long long>(r.max_new));
  const std::string recipe = std::string(R"({"name": "bench_rejection_)") + s.name + R"(", "seed": 1234, "stages": [
    {"name": "rs", "type": "rejection_sampling",
     "model": {"init_config": )" + s.config + R"(, "byte_level_tokenizer": ["<|endoftext|>", "<think>", "</think>"]},
     "sources": [{"path": ")" + path_join(dir, "prompts.jsonl") + R"(", )" + opts + R"(}],
     "filters": {"truncated": {"enabled": false}, "no_answer": {"enabled": false}},
     "batch_prompts": )" + std::to_string(r.batch) + R"(, "threads": )" + std::to_string(a.threads) + R"(}
  ]})";
  write_file_atomic(path_join(dir, "recipe.json"), recipe);
  rl::RunOptions opts_run;
  opts_run.output_dir = path_join(dir, "run");
  opts_run.quiet = true;
  std::fprintf(stderr, "r1 bench rejection: %s: %lld prompts x %lld samples, %lld new tokens, %lld prompts per batch\n",
               s.name.c_str(), static_cast<long long>(r.prompts), static_cast<long long>(r.samples_per_prompt),
               static_cast<long long>(r.max_new), static_cast<long long>(r.batch));
  const auto t0 = std::chrono::steady_clock::now();
  const std::string run_dir = rl::run_recipe(path_join(dir, "recipe.json"), opts_run);
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const json::Document stats = json::parse_file(path_join(run_dir, "stages/rs/stats.json"));
  const json::Value& src = stats["sources"]["prompts"];
  r.samples = src["samples"].GetInt64();
  r.kept = src["kept"].GetInt64();
  r.tokens = src["generated_tokens"].GetInt64();
  r.generate_s = src["generate_s"].GetDouble();
  r.reward_s = src["reward_s"].GetDouble();
  r.sampling_s = stats["sampling_s"].GetDouble();
  return r;
}

void print(const std::vector<Result>& results, const BenchArgs& a) {
  if (a.json) {
    json::Document doc(rapidjson::kObjectType);
    auto& al = doc.GetAllocator();
    doc.AddMember("threads", json::Value(at::get_num_threads()), al);
    json::Value list(rapidjson::kArrayType);
    for (const auto& r : results) {
      json::Value o(rapidjson::kObjectType);
      o.AddMember("model", json::Value(r.name.c_str(), al), al);
      o.AddMember("parameters", json::Value(r.params.total), al);
      o.AddMember("prompts", json::Value(r.prompts), al);
      o.AddMember("samples_per_prompt", json::Value(r.samples_per_prompt), al);
      o.AddMember("max_new_tokens", json::Value(r.max_new), al);
      o.AddMember("samples", json::Value(r.samples), al);
      o.AddMember("kept", json::Value(r.kept), al);
      o.AddMember("sampling_s", json::Value(r.sampling_s), al);
      o.AddMember("samples_per_s", json::Value(r.samples / r.sampling_s), al);
      o.AddMember("kept_per_s", json::Value(r.kept / r.sampling_s), al);
      o.AddMember("generate_tokens_per_s", json::Value(r.tokens / r.generate_s), al);
      list.PushBack(o, al);
    }
    doc.AddMember("results", list, al);
    std::printf("%s\n", json::dump(doc, true).c_str());
    return;
  }
  std::printf("threads %d. Random-init models: every sample is judged correct (repetition reward, threshold -100) "
              "and the truncated / no_answer filters are off, so this measures the machinery.\n\n",
              at::get_num_threads());
  std::printf("| model | parameters | prompts × samples, new tokens | samples | kept | loop s | samples/s | kept/s | "
              "generate s | reward s | gen tok/s |\n|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) {
    std::printf("| %s | %.2fM | %lld × %lld, %lld | %lld | %lld | %.2f | %.1f | %.1f | %.2f | %.3f | %.0f |\n",
                r.name.c_str(), r.params.total / 1e6, static_cast<long long>(r.prompts),
                static_cast<long long>(r.samples_per_prompt), static_cast<long long>(r.max_new),
                static_cast<long long>(r.samples), static_cast<long long>(r.kept), r.sampling_s,
                r.samples / r.sampling_s, r.kept / r.sampling_s, r.generate_s, r.reward_s, r.tokens / r.generate_s);
  }
  std::printf("\nloop s: the stage's sampling loop (generation, scoring, filters, shards); model loading and the "
              "final mix excluded.\n");
}

void run_bench(const BenchArgs& a) {
  if (a.threads > 0) at::set_num_threads(a.threads);
  const std::vector<Result> results = run_shapes(
      "rejection", a.model, a.keep, Shape{"tiny", kTinyConfig, 64, 8, 64, 16}, Shape{"100m", k100mConfig, 8, 4, 32, 8},
      [&](const Shape& s, const std::string& root) { return run_shape(s, a, root); });
  print(results, a);
}

}  // namespace

void add_rejection_bench_commands(CLI::App& bench) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "rejection", "samples/s and kept/s of the rejection_sampling stage (tiny and ~100M random models)");
  cmd->add_option("--prompts", a->prompts, "prompts (0: 64 for tiny, 8 for 100m)");
  cmd->add_option("--samples", a->samples, "samples per prompt (0: 8 for tiny, 4 for 100m)");
  cmd->add_option("--max-new-tokens", a->max_new, "new tokens per sample (0: 64 for tiny, 32 for 100m)");
  cmd->add_option("--batch-prompts", a->batch, "prompts per generate call (0: 16 for tiny, 8 for 100m)");
  a->add_to(*cmd);
  cmd->callback([a] { run_bench(*a); });
}

}  // namespace r1::cli
