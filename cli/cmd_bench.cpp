// `r1 bench model`: throughput of the model code on this machine — forward tokens/s (scoring, no grad),
// forward+backward tokens/s (training), and generation tokens/s (batched sampling with the KV cache,
// prefill included) — for the tiny golden fixtures and synthetic DeepSeek-V3-shaped random models: a
// ~4M-parameter one (the shape of the tiny GRPO run: 128 rows × 64 new tokens) and a ~110M one.
// Figures go to BENCHMARKS.md with the exact command; nothing here is a test.
#include <CLI/CLI.hpp>
#include <ATen/core/grad_mode.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <functional>

#include "cli/commands.h"
#include "common/error.h"
#include "common/fs.h"
#include "model/causal_lm.h"
#include "model/generate.h"

namespace r1::cli {
namespace {

using model::CausalLM;

// DeepSeek-V3-shaped configs made in code (transformers-5 dialect), with the release's structure: q-LoRA,
// YaRN, sigmoid routing with groups, one shared expert, first layer dense.
std::string ds3_config(int64_t vocab, int64_t hidden, int64_t layers, int64_t heads, int64_t q_lora, int64_t kv_lora,
                       int64_t nope, int64_t rope, int64_t v, int64_t experts, int64_t topk, int64_t groups,
                       int64_t topk_groups, int64_t moe_width, int64_t dense_width) {
  char buf[2048];
  std::snprintf(buf, sizeof buf, R"({"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
  "vocab_size": %lld, "hidden_size": %lld, "num_hidden_layers": %lld, "num_attention_heads": %lld,
  "num_key_value_heads": %lld, "q_lora_rank": %lld, "kv_lora_rank": %lld, "qk_nope_head_dim": %lld,
  "qk_rope_head_dim": %lld, "v_head_dim": %lld, "n_routed_experts": %lld, "num_experts_per_tok": %lld,
  "n_group": %lld, "topk_group": %lld, "moe_intermediate_size": %lld, "intermediate_size": %lld,
  "n_shared_experts": 1, "first_k_dense_replace": 1, "norm_topk_prob": true, "routed_scaling_factor": 2.5,
  "max_position_embeddings": 4096, "rope_parameters": {"rope_type": "yarn", "rope_theta": 10000.0, "factor": 4.0,
  "original_max_position_embeddings": 1024, "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0},
  "num_nextn_predict_layers": 0, "eos_token_id": 1, "bos_token_id": 0})",
                static_cast<long long>(vocab), static_cast<long long>(hidden), static_cast<long long>(layers),
                static_cast<long long>(heads), static_cast<long long>(heads), static_cast<long long>(q_lora),
                static_cast<long long>(kv_lora), static_cast<long long>(nope), static_cast<long long>(rope),
                static_cast<long long>(v), static_cast<long long>(experts), static_cast<long long>(topk),
                static_cast<long long>(groups), static_cast<long long>(topk_groups), static_cast<long long>(moe_width),
                static_cast<long long>(dense_width));
  return buf;
}

double seconds_of(const std::function<void()>& fn, int repeat) {
  fn();  // warm-up
  double best = 1e30;
  for (int i = 0; i < repeat; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

struct BenchArgs {
  std::vector<std::string> models;
  std::string fixtures = "tests/fixtures/models";
  bool synthetic = true, skip_100m = false;
  int threads = 0, repeat = 3;
  int64_t fwd_batch = 8, fwd_len = 128;
  int64_t gen_batch = 64, gen_prompt = 32, gen_new = 64;
  std::string dtype = "float32";
  std::string only;  // run only models whose label contains this
};

void bench_one(const std::string& label, CausalLM& m, const BenchArgs& a, int64_t gen_batch) {
  if (!a.only.empty() && label.find(a.only) == std::string::npos) return;
  const int64_t V = m.config().vocab_size;
  at::Tensor ids = at::randint(3, V, {a.fwd_batch, a.fwd_len}, at::kLong);
  const double fwd_s = seconds_of(
      [&] {
        at::NoGradGuard ng;
        at::Tensor h = m.forward(ids).hidden;
        (void)m.logits(h).sum().item<double>();
      },
      a.repeat);
  m.set_requires_grad(true);
  const double train_s = seconds_of(
      [&] {
        for (auto& [n, p] : m.named_parameters()) p.mutable_grad() = at::Tensor();
        at::Tensor lp = at::log_softmax(m.logits(m.forward(ids).hidden), -1);
        lp.mean().backward();
      },
      a.repeat);
  m.set_requires_grad(false);
  model::GenerationConfig g;
  g.max_new_tokens = a.gen_new;
  g.temperature = 1.0;
  g.seed = 1;  // no EOS: every row generates exactly gen_new tokens
  at::Tensor prompts = at::randint(3, V, {gen_batch, a.gen_prompt}, at::kLong);
  const double gen_s = seconds_of([&] { (void)model::generate(m, prompts, {}, g); }, a.repeat);
  at::Tensor one = prompts.narrow(0, 0, 1);
  const double gen1_s = seconds_of([&] { (void)model::generate(m, one, {}, g); }, a.repeat);
  model::ParameterCounts pc = m.parameter_counts();
  std::printf("| %s | %.2fM (%.2fM act.) | %.0f | %.0f | %lld×%lld+%lld: %.0f | 1×%lld+%lld: %.0f |\n", label.c_str(),
              pc.total / 1e6, pc.activated / 1e6, a.fwd_batch * a.fwd_len / fwd_s, a.fwd_batch * a.fwd_len / train_s,
              static_cast<long long>(gen_batch), static_cast<long long>(a.gen_prompt), static_cast<long long>(a.gen_new),
              gen_batch * a.gen_new / gen_s, static_cast<long long>(a.gen_prompt), static_cast<long long>(a.gen_new),
              a.gen_new / gen1_s);
  std::fflush(stdout);
}

void run_bench(const BenchArgs& a) {
  if (a.threads > 0) at::set_num_threads(a.threads);
  at::ScalarType dt = a.dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
  R1_CHECK(a.dtype == "float32" || a.dtype == "bfloat16", "--dtype: expected float32 or bfloat16");
  std::printf("threads %d, dtype %s, forward/train batch %lld×%lld, best of %d after a warm-up\n\n", at::get_num_threads(),
              a.dtype.c_str(), static_cast<long long>(a.fwd_batch), static_cast<long long>(a.fwd_len), a.repeat);
  std::printf("| model | parameters | forward tok/s | fwd+bwd tok/s | generation tok/s (rows×prompt+new) | single-row tok/s |\n");
  std::printf("|---|---|---|---|---|---|\n");
  std::vector<std::string> dirs = a.models;
  if (dirs.empty()) {
    for (const char* n : {"deepseek_v3_tiny", "deepseek_v3_tiny_norope_scaling", "qwen2_tiny", "llama3_tiny"}) {
      const std::string d = path_join(a.fixtures, n);
      if (is_directory(d)) dirs.push_back(d);
    }
  }
  for (const auto& d : dirs) {
    auto m = CausalLM::load(d, dt);
    bench_one(d.substr(d.find_last_of('/') + 1), *m, a, a.gen_batch);
  }
  if (a.synthetic) {
    auto tiny = CausalLM::init_random(model::ModelConfig::from_json(ds3_config(512, 192, 4, 4, 96, 64, 32, 16, 32, 8, 2, 4, 2, 192, 512), "ds3-4m"), 1, dt);
    bench_one("ds3-4m (GRPO shape)", *tiny, a, 128);
    if (!a.skip_100m) {
      auto big = CausalLM::init_random(model::ModelConfig::from_json(ds3_config(32000, 512, 8, 8, 256, 128, 64, 32, 64, 16, 2, 4, 2, 384, 1536), "ds3-110m"), 1, dt);
      bench_one("ds3-110m", *big, a, a.gen_batch);
    }
  }
}

}  // namespace

void add_bench_commands(CLI::App& bench) {
  auto* cmd = bench.add_subcommand("model", "Forward, forward+backward and generation tokens/s of models on this machine");
  auto a = std::make_shared<BenchArgs>();
  cmd->add_option("--model", a->models, "model directories (default: the four fixtures under --fixtures)");
  cmd->add_option("--fixtures", a->fixtures, "directory of the tiny fixture models");
  cmd->add_flag("!--no-synthetic", a->synthetic, "skip the synthetic DeepSeek-V3-shaped models (~4M and ~110M)");
  cmd->add_flag("--skip-100m", a->skip_100m, "skip the ~110M model");
  cmd->add_option("--threads", a->threads, "intra-op threads (0 = LibTorch default)");
  cmd->add_option("--repeat", a->repeat, "timed repetitions (best is reported)");
  cmd->add_option("--forward-batch", a->fwd_batch, "rows of the forward / training batch");
  cmd->add_option("--forward-len", a->fwd_len, "tokens per row of the forward / training batch");
  cmd->add_option("--gen-batch", a->gen_batch, "rows generated together (the ds3-4m row always uses 128)");
  cmd->add_option("--gen-prompt", a->gen_prompt, "prompt tokens per row");
  cmd->add_option("--gen-new", a->gen_new, "new tokens per row");
  cmd->add_option("--dtype", a->dtype, "float32 | bfloat16");
  cmd->add_option("--only", a->only, "run only the models whose name contains this text");
  cmd->callback([a] { run_bench(*a); });
}

}  // namespace r1::cli
