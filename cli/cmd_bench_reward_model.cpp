// `r1 bench reward_model`: reward-model training tokens/s and scoring rows/s, for the tiny model of
// recipes/tiny_r1_zero.json and a ~100M DeepSeek-V3 shape (cli/bench_shapes.h), each as a reward model (the LM
// head replaced by the score head).
//
// Training runs the real stage: a recipe written to a temporary directory (synthetic preference pairs of about
// --len tokens each, a byte-level tokenizer with ChatML's markers) goes through r1::rl::run_recipe; the figure is
// the median of the stage's per-step tokens_per_s (the first step, which warms up, left out). Scoring loads the
// stage's final/ through the reward_model reward (rl/reward_model_reward.h), exactly as GRPO and `r1 reward score`
// do, and times score_batch over --rows rows (rendering, tokenising and the batched no-grad forward).
// Figures go to BENCHMARKS.md with the exact command; nothing here is a test.
#include <CLI/CLI.hpp>
#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>

#include "cli/bench_shapes.h"
#include "cli/commands.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/jsonl.h"
#include "rl/pipeline.h"
#include "rl/reward_model_reward.h"

namespace r1::cli {
namespace {

struct BenchArgs : ShapeBenchOptions {
  BenchArgs() : ShapeBenchOptions("tiny") {}
  int64_t steps = 0, batch = 0, len = 0, rows = 0;  // 0: the shape's default
};

struct Shape {
  std::string name;
  std::string config;
  int64_t steps, batch, len, rows;  // defaults
};

struct Result {
  std::string name;
  model::ParameterCounts params;
  int64_t steps = 0, batch = 0, len = 0, rows = 0;
  double train_tokens_per_s = 0, score_rows_per_s = 0, score_s = 0;
};

// Median of the stage's tokens_per_s over steps 2..N.
double median_tokens_per_s(const std::string& run_dir) {
  std::vector<double> v;
  for_each_jsonl(path_join(run_dir, "metrics.jsonl"), [&](size_t, const json::Value& row) {
    if (json::find(row, "tokens_per_s") && row["step"].GetInt64() > 1) v.push_back(row["tokens_per_s"].GetDouble());
  });
  R1_CHECK(!v.empty(), "r1 bench reward_model: no metrics lines after the first step (use --steps 2 or more)");
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double time_scoring(const std::string& final_dir, const Result& r) {
  rl::RewardModelOptions o;
  o.path = final_dir;
  o.batch_size = 16;
  const rl::RewardModelReward reward(o, "r1 bench reward_model");
  std::vector<rewards::Sample> samples(static_cast<size_t>(r.rows));
  for (int64_t i = 0; i < r.rows; ++i) {
    samples[static_cast<size_t>(i)].prompt = bench_words(i, r.len / 10);  // the training rows' lengths
    samples[static_cast<size_t>(i)].completion = bench_words(i + 7, r.len / 10);
  }
  const auto t0 = std::chrono::steady_clock::now();
  reward.score_batch(samples, nullptr);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Result run_shape(const Shape& s, const BenchArgs& a, const std::string& root) {
  Result r;
  r.name = s.name;
  r.steps = a.steps > 0 ? a.steps : s.steps;
  r.batch = a.batch > 0 ? a.batch : s.batch;
  r.len = a.len > 0 ? a.len : s.len;
  r.rows = a.rows > 0 ? a.rows : s.rows;
  r.params = shape_parameters(s.config, "r1 bench reward_model: " + s.name);
  const std::string dir = shape_dir(root, s.name);
  std::string pairs;  // byte-level tokens: about one per character; a word ~ 5 characters with its space
  for (int64_t i = 0; i < 4 * r.batch; ++i) {
    pairs += "{\"prompt\": \"" + bench_words(i, r.len / 10) + "\", \"chosen\": \"" + bench_words(i + 1, r.len / 10) +
             "\", \"rejected\": \"" + bench_words(i + 2, r.len / 10) + "\"}\n";
  }
  write_file_atomic(path_join(dir, "pairs.jsonl"), pairs);
  const std::string recipe = std::string(R"({"name": "bench_reward_model_)") + s.name + R"(", "seed": 1234, "stages": [
    {"name": "rm", "type": "reward_model",
     "model": {"init_config": )" + s.config + R"(, "byte_level_tokenizer": ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]},
     "chat_template": "chatml", "data": ")" + path_join(dir, "pairs.jsonl") + R"(", "steps": )" + std::to_string(r.steps) +
                             R"(, "batch_size": )" + std::to_string(r.batch) + R"(, "max_len": )" + std::to_string(2 * r.len) +
                             R"(, "save_every": 0, "save_every_minutes": 0, "threads": )" + std::to_string(a.threads) + R"(}
  ]})";
  write_file_atomic(path_join(dir, "recipe.json"), recipe);
  rl::RunOptions opts;
  opts.output_dir = path_join(dir, "run");
  opts.quiet = true;
  std::fprintf(stderr, "r1 bench reward_model: %s: %lld steps of %lld pairs (~%lld tokens each), %lld rows scored\n",
               s.name.c_str(), static_cast<long long>(r.steps), static_cast<long long>(r.batch),
               static_cast<long long>(r.len), static_cast<long long>(r.rows));
  const std::string run_dir = rl::run_recipe(path_join(dir, "recipe.json"), opts);
  r.train_tokens_per_s = median_tokens_per_s(run_dir);
  r.score_s = time_scoring(path_join(run_dir, "stages/rm/final"), r);
  r.score_rows_per_s = static_cast<double>(r.rows) / r.score_s;
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
      o.AddMember("steps", json::Value(r.steps), al);
      o.AddMember("pairs_per_step", json::Value(r.batch), al);
      o.AddMember("tokens_per_sequence", json::Value(r.len), al);
      o.AddMember("train_tokens_per_s", json::Value(r.train_tokens_per_s), al);
      o.AddMember("rows_scored", json::Value(r.rows), al);
      o.AddMember("score_rows_per_s", json::Value(r.score_rows_per_s), al);
      list.PushBack(o, al);
    }
    doc.AddMember("results", list, al);
    std::printf("%s\n", json::dump(doc, true).c_str());
    return;
  }
  std::printf("threads %d. Random-init backbones with a score head; byte-level tokens.\n\n", at::get_num_threads());
  std::printf("| model | parameters (as LM) | pairs/step, ~tokens/sequence | train tokens/s | rows scored | scoring s | "
              "rows/s |\n|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) {
    std::printf("| %s | %.2fM | %lld, %lld | %.0f | %lld | %.2f | %.1f |\n", r.name.c_str(), r.params.total / 1e6,
                static_cast<long long>(r.batch), static_cast<long long>(r.len), r.train_tokens_per_s,
                static_cast<long long>(r.rows), r.score_s, r.score_rows_per_s);
  }
  std::printf("\ntrain tokens/s: median over steps 2..N of the stage's tokens_per_s (forward + backward + AdamW, both "
              "sequences of each pair). Scoring: the reward_model reward's score_batch, 16 rows per forward.\n");
}

void run_bench(const BenchArgs& a) {
  if (a.threads > 0) at::set_num_threads(a.threads);
  const std::vector<Result> results = run_shapes(
      "reward_model", a.model, a.keep, Shape{"tiny", kTinyConfig, 10, 16, 128, 256},
      Shape{"100m", k100mConfig, 4, 4, 128, 32},
      [&](const Shape& s, const std::string& root) { return run_shape(s, a, root); });
  print(results, a);
}

}  // namespace

void add_reward_model_bench_commands(CLI::App& bench) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "reward_model", "reward-model training tokens/s and scoring rows/s (tiny and ~100M random backbones)");
  cmd->add_option("--steps", a->steps, "training steps (0: 10 for tiny, 4 for 100m)");
  cmd->add_option("--batch", a->batch, "pairs per step (0: 16 for tiny, 4 for 100m)");
  cmd->add_option("--len", a->len, "about this many tokens per sequence (0: 128)");
  cmd->add_option("--rows", a->rows, "rows scored (0: 256 for tiny, 32 for 100m)");
  a->add_to(*cmd);
  cmd->callback([a] { run_bench(*a); });
}

}  // namespace r1::cli
