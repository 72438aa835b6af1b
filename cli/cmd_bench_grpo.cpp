// `r1 bench grpo`: where the time of one GRPO training step goes — rollout (sampling with the KV cache,
// prefill included), reward scoring, the reference log-prob pass, the policy update (forward + backward +
// AdamW) — and its tokens/s, for two DeepSeek-V3-shaped random models: the ~2M-parameter model of
// recipes/tiny_r1_zero.json and a ~100M one. It runs the real pipeline: a recipe written to a temporary
// directory (a small synthetic_arithmetic stage, then a grpo stage with the R1-Zero prompt, math + format
// rewards and a byte-level tokenizer) goes through r1::rl::run_recipe, and the medians of the measured
// steps are read back from metrics.jsonl. Random models emit random text, so completions almost always run
// to max_new_tokens: this measures the machinery, not a trained model. Figures go to BENCHMARKS.md with
// the exact command; nothing here is a test.
#include <CLI/CLI.hpp>
#include <ATen/Parallel.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>

#include "cli/bench_shapes.h"
#include "cli/bench_stats.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/jsonl.h"
#include "model/causal_lm.h"
#include "rl/pipeline.h"

namespace r1::cli {
namespace {

struct BenchArgs : ShapeBenchOptions {
  BenchArgs() : ShapeBenchOptions("all") {}
  int64_t prompts = 0, group = 0, max_new = 0;  // 0: the shape's default
  int64_t steps = 3, warmup = 1, micro_batch = 0;
  double beta = 0.001;
};

struct Shape {
  std::string name;
  std::string config;
  int64_t prompts, group, max_new;  // defaults
};

struct Result {
  std::string name;
  model::ParameterCounts params;
  int64_t prompts = 0, group = 0, max_new = 0, measured = 0;
  std::map<std::string, double> median;  // metric -> median over the measured steps
};

std::string recipe_json(const Shape& s, const BenchArgs& a, int64_t prompts, int64_t group, int64_t max_new) {
  char opts[1024];
  std::snprintf(opts, sizeof opts,
                R"("sampling": {"temperature": 1.0, "max_new_tokens": %lld, "stop": ["</answer>"]},
     "steps": %lld, "prompts_per_step": %lld, "group_size": %lld,
     "grpo": {"epsilon_low": 0.2, "epsilon_high": 0.28, "beta": %.17g, "kl_estimator": "k3"},
     "optim": {"lr": 1e-3, "warmup_steps": 0, "weight_decay": 0.0, "min_lr_ratio": 1.0},
     "micro_batch_size": %lld, "threads": %d, "log_every": 1, "samples_every": 0)",
                static_cast<long long>(max_new), static_cast<long long>(a.warmup + a.steps),
                static_cast<long long>(prompts), static_cast<long long>(group), a.beta,
                static_cast<long long>(a.micro_batch), a.threads);
  return std::string(R"({"name": "bench_grpo_)") + s.name + R"(", "seed": 1234, "stages": [
    {"name": "data", "type": "synthetic_arithmetic", "max_digits": 2,
     "corpus_size": 100, "train_size": 200, "heldout_size": 10},
    {"name": "grpo", "type": "grpo",
     "model": {"init_config": )" + s.config + R"(, "byte_level_tokenizer": ["<|endoftext|>"]},
     "data": {"path": "stage:data/train.jsonl", "prompt_template": "r1_zero"},
     "reward": {"composite": [{"name": "math"}, {"name": "format"}]},
     )" + opts + R"(}
  ]})";
}

Result run_shape(const Shape& s, const BenchArgs& a, const std::string& root) {
  Result r;
  r.name = s.name;
  r.prompts = a.prompts > 0 ? a.prompts : s.prompts;
  r.group = a.group > 0 ? a.group : s.group;
  r.max_new = a.max_new > 0 ? a.max_new : s.max_new;
  r.params = shape_parameters(s.config, "r1 bench grpo: " + s.name);
  const std::string dir = shape_dir(root, s.name);
  const std::string recipe = path_join(dir, "recipe.json");
  write_file_atomic(recipe, recipe_json(s, a, r.prompts, r.group, r.max_new));
  rl::RunOptions opts;
  opts.output_dir = path_join(dir, "run");
  opts.quiet = true;
  std::fprintf(stderr, "r1 bench grpo: %s: %lld steps (%lld warm-up) of %lld prompts x %lld completions, %lld new tokens\n",
               s.name.c_str(), static_cast<long long>(a.warmup + a.steps), static_cast<long long>(a.warmup),
               static_cast<long long>(r.prompts), static_cast<long long>(r.group), static_cast<long long>(r.max_new));
  const std::string run_dir = rl::run_recipe(recipe, opts);

  const std::vector<std::string> keys = {"time_rollout_s", "time_reward_s", "time_reference_s", "time_update_s",
                                         "step_s", "rollout_tokens_per_s", "completion_len_mean", "truncation_rate",
                                         "batch_tokens", "batch_padded_tokens"};
  std::map<std::string, std::vector<double>> cols;
  for_each_jsonl(path_join(run_dir, "metrics.jsonl"), [&](size_t, const json::Value& row) {
    const json::Value* stage = json::find(row, "stage");
    if (!stage || !stage->IsString() || std::string(stage->GetString()) != "grpo") return;
    if (json::get_int(row, "step", "metrics.jsonl") <= a.warmup) return;
    std::map<std::string, double> v;
    for (const auto& k : keys) {
      const json::Value* x = json::find(row, k.c_str());
      v[k] = x && x->IsNumber() ? x->GetDouble() : 0.0;
      cols[k].push_back(v[k]);
    }
    const double update = v["time_update_s"];
    cols["update_tokens_per_s"].push_back(update > 0 ? v["batch_tokens"] / update : 0.0);
    cols["update_padded_tokens_per_s"].push_back(update > 0 ? v["batch_padded_tokens"] / update : 0.0);
    cols["other_s"].push_back(v["step_s"] - v["time_rollout_s"] - v["time_reference_s"] - v["time_update_s"]);
    ++r.measured;
  });
  R1_CHECK(r.measured > 0, "r1 bench grpo: ", run_dir, "/metrics.jsonl has no measured grpo step");
  for (auto& [k, v] : cols) r.median[k] = median(v);
  return r;
}

void print_table(const std::vector<Result>& results, const BenchArgs& a) {
  std::printf("threads %d, beta %g, median of %lld measured steps after %lld warm-up\n", at::get_num_threads(), a.beta,
              static_cast<long long>(a.steps), static_cast<long long>(a.warmup));
  std::printf("Random-init models emit random text: completions run to max_new_tokens (or a random EOS); this "
              "measures the machinery, not a trained model.\n\n");
  std::printf("| model | parameters | rows (prompts×G), new | tokens/step (real / padded) | rollout s | reward s* | "
              "reference s | update s | other s | step s | rollout tok/s | update tok/s (real / padded) | "
              "completion len |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) {
    auto m = [&](const char* k) { return r.median.at(k); };
    std::printf("| %s | %.2fM (%.2fM act.) | %lld×%lld, %lld | %.0f / %.0f | %.2f | %.3f | %.2f | %.2f | %.2f | %.2f | "
                "%.0f | %.0f / %.0f | %.1f |\n",
                r.name.c_str(), r.params.total / 1e6, r.params.activated / 1e6, static_cast<long long>(r.prompts),
                static_cast<long long>(r.group), static_cast<long long>(r.max_new), m("batch_tokens"),
                m("batch_padded_tokens"), m("time_rollout_s"), m("time_reward_s"), m("time_reference_s"),
                m("time_update_s"), m("other_s"), m("step_s"), m("rollout_tokens_per_s"), m("update_tokens_per_s"),
                m("update_padded_tokens_per_s"), m("completion_len_mean"));
  }
  std::printf("\n* reward scoring runs on a thread pool concurrently with the reference pass; \"other\" = step − "
              "rollout − reference − update (waiting for rewards, batching, bookkeeping). Rollout tok/s counts new "
              "tokens over the whole rollout (prefill included); update tok/s = prompt+completion tokens of the "
              "batch (pads excluded / included) over the update (forward, backward, AdamW).\n");
}

void print_json(const std::vector<Result>& results, const BenchArgs& a) {
  json::Document doc(rapidjson::kObjectType);
  auto& al = doc.GetAllocator();
  doc.AddMember("threads", json::Value(at::get_num_threads()), al);
  doc.AddMember("beta", json::Value(a.beta), al);
  doc.AddMember("warmup", json::Value(static_cast<int64_t>(a.warmup)), al);
  json::Value list(rapidjson::kArrayType);
  for (const auto& r : results) {
    json::Value o(rapidjson::kObjectType);
    o.AddMember("model", json::Value(r.name.c_str(), al), al);
    o.AddMember("parameters", json::Value(r.params.total), al);
    o.AddMember("active_parameters", json::Value(r.params.activated), al);
    o.AddMember("prompts_per_step", json::Value(r.prompts), al);
    o.AddMember("group_size", json::Value(r.group), al);
    o.AddMember("max_new_tokens", json::Value(r.max_new), al);
    o.AddMember("measured_steps", json::Value(r.measured), al);
    json::Value med(rapidjson::kObjectType);
    for (const auto& [k, v] : r.median) med.AddMember(json::Value(k.c_str(), al), json::Value(v), al);
    o.AddMember("median", med, al);
    list.PushBack(o, al);
  }
  doc.AddMember("results", list, al);
  std::printf("%s\n", json::dump(doc, true).c_str());
}

void run_bench(const BenchArgs& a) {
  R1_CHECK(a.steps >= 1 && a.warmup >= 0, "--steps must be >= 1 and --warmup >= 0");
  if (a.threads > 0) at::set_num_threads(a.threads);
  const std::vector<Result> results =
      run_shapes("grpo", a.model, a.keep, Shape{"tiny", kTinyConfig, 8, 8, 64}, Shape{"100m", k100mConfig, 2, 4, 32},
                 [&](const Shape& s, const std::string& root) { return run_shape(s, a, root); });
  if (a.json) print_json(results, a);
  else print_table(results, a);
}

}  // namespace

void add_grpo_bench_commands(CLI::App& bench) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* cmd = bench.add_subcommand("grpo", "Time breakdown and tokens/s of a GRPO training step (tiny and ~100M models)");
  cmd->add_option("--prompts", a->prompts, "prompts per step (0: 8 for tiny, 2 for 100m)");
  cmd->add_option("--group", a->group, "completions per prompt, G (0: 8 for tiny, 4 for 100m)");
  cmd->add_option("--max-new-tokens", a->max_new, "new tokens per completion (0: 64 for tiny, 32 for 100m)");
  cmd->add_option("--steps", a->steps, "measured steps (the median is reported)");
  cmd->add_option("--warmup", a->warmup, "steps run before the measured ones");
  cmd->add_option("--micro-batch", a->micro_batch, "sequences per forward/backward in the update (0: the whole batch)");
  cmd->add_option("--beta", a->beta, "KL coefficient (0 skips the reference pass)");
  a->add_to(*cmd, "print the medians as JSON instead of a table");
  cmd->callback([a] { run_bench(*a); });
}

}  // namespace r1::cli
