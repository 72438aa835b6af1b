// What the `r1 bench` commands that run recipes share (bench grpo, bench rejection): the model shapes, their
// parameter counts, the choice of shapes by --model, and the root directory of their runs (--keep, or a
// temporary one removed afterwards).
#pragma once

#include <stdlib.h>

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/fs.h"
#include "model/causal_lm.h"

namespace r1::cli {

// A DeepSeek-V3 config.json of the bench shapes: what they share (MLA with q-LoRA, the first layer dense,
// DeepSeekMoE with one shared expert and sigmoid routing over 4 groups of which the top 2 are used, the
// byte-level tokenizer's <|endoftext|> = id 256 as bos and eos), then `sizes`, the keys that differ.
inline std::string v3_shape_config(const std::string& sizes) {
  return R"({
  "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3", "first_k_dense_replace": 1,
  "n_shared_experts": 1, "n_group": 4, "topk_group": 2, "norm_topk_prob": true, "scoring_func": "sigmoid",
  "topk_method": "noaux_tc", "rope_theta": 10000.0, "rms_norm_eps": 1e-6, "initializer_range": 0.02,
  "bos_token_id": 256, "eos_token_id": 256, "tie_word_embeddings": false,
  )" + sizes + "}";
}

// The model of recipes/tiny_r1_zero.json (its "base" stage's init_config), with the vocabulary cut to a
// byte-level tokenizer's: 256 bytes + <|endoftext|> (id 256, bos and eos), padded to 264.
inline const std::string kTinyConfig = v3_shape_config(R"(
  "vocab_size": 264, "hidden_size": 128, "intermediate_size": 384, "moe_intermediate_size": 128,
  "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 4, "q_lora_rank": 64,
  "kv_lora_rank": 64, "qk_nope_head_dim": 32, "qk_rope_head_dim": 16, "v_head_dim": 32, "n_routed_experts": 8,
  "num_experts_per_tok": 2, "routed_scaling_factor": 1.0, "num_nextn_predict_layers": 1,
  "max_position_embeddings": 512)");

// A ~100M-parameter DeepSeek-V3 shape: 16 routed experts top-4, a 32000-token vocabulary (the byte-level
// tokenizer uses ids 0-256 of it; the LM head still scores all 32000).
inline const std::string k100mConfig = v3_shape_config(R"(
  "vocab_size": 32000, "hidden_size": 768, "intermediate_size": 2048, "moe_intermediate_size": 128,
  "num_hidden_layers": 8, "num_attention_heads": 12, "num_key_value_heads": 12, "q_lora_rank": 384,
  "kv_lora_rank": 256, "qk_nope_head_dim": 64, "qk_rope_head_dim": 32, "v_head_dim": 64, "n_routed_experts": 16,
  "num_experts_per_tok": 4, "routed_scaling_factor": 2.5, "num_nextn_predict_layers": 0,
  "max_position_embeddings": 4096)");

// `words` pseudo-random words of a small vocabulary, deterministic in i: the synthetic texts of the benches that
// train (bench reward_model, bench data_parallel).
inline std::string bench_words(int64_t i, int64_t words) {
  static const char* kWords[] = {"the", "answer", "is", "because", "we", "add", "tens", "and", "ones", "then",
                                 "check", "it", "again", "so", "result", "follows"};
  std::string out;
  uint64_t x = static_cast<uint64_t>(i) * 2654435761u + 17;
  for (int64_t w = 0; w < words; ++w) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    out += (w ? " " : "") + std::string(kWords[(x >> 33) % 16]);
  }
  return out;
}

// The parameter counts of a shape (a random-init model built for the count and dropped).
inline model::ParameterCounts shape_parameters(const std::string& config, const std::string& where) {
  return model::CausalLM::init_random(model::ModelConfig::from_json(config, where), 1)->parameter_counts();
}

// Calls run(root) with the root directory of the runs: `keep` (kept, and said on stderr), or a fresh
// <TMPDIR>/r1-bench-<what>-XXXXXX removed afterwards, also when run throws. `what`: "grpo", "rejection".
template <class F>
auto with_bench_root(const std::string& what, const std::string& keep, F run) -> decltype(run(std::string())) {
  std::string root = keep;
  if (root.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    root = std::string(tmp && *tmp ? tmp : "/tmp") + "/r1-bench-" + what + "-XXXXXX";
    R1_CHECK(mkdtemp(root.data()) != nullptr, "r1 bench ", what, ": cannot create a directory from ", root);
  }
  make_dirs(root);
  try {
    auto result = run(root);
    if (keep.empty()) remove_all(root);
    else std::fprintf(stderr, "r1 bench %s: run directories kept under %s\n", what.c_str(), root.c_str());
    return result;
  } catch (...) {
    if (keep.empty()) remove_all(root);
    throw;
  }
}

// The options every shape bench takes (bench grpo, rejection, reward_model): which shapes, threads, where runs are
// kept, JSON output. A command's own arguments derive from it.
struct ShapeBenchOptions {
  std::string model;
  int threads = 0;
  std::string keep;
  bool json = false;

  explicit ShapeBenchOptions(std::string default_model) : model(std::move(default_model)) {}
  void add_to(CLI::App& cmd, const char* json_help = "print the figures as JSON instead of a table") {
    cmd.add_option("--model", model, "tiny | 100m | all");
    cmd.add_option("--threads", threads, "LibTorch intra-op threads (0 = LibTorch default)");
    cmd.add_option("--keep", keep, "keep the recipes and run directories under this directory (default: a temp dir, "
                                   "removed)");
    cmd.add_flag("--json", json, json_help);
  }
};

// A shape's run directory, root/name, made.
inline std::string shape_dir(const std::string& root, const std::string& name) {
  const std::string dir = path_join(root, name);
  make_dirs(dir);
  return dir;
}

// Runs run_shape(shape, root) for the shapes that --model picks (tiny | 100m | all) under with_bench_root;
// the results in order.
template <class Shape, class F>
auto run_shapes(const std::string& what, const std::string& model, const std::string& keep, const Shape& tiny,
                const Shape& big, F run_shape) -> std::vector<decltype(run_shape(tiny, std::string()))> {
  R1_CHECK(model == "tiny" || model == "100m" || model == "all", "--model: expected tiny, 100m or all");
  std::vector<Shape> shapes;
  if (model != "100m") shapes.push_back(tiny);
  if (model != "tiny") shapes.push_back(big);
  return with_bench_root(what, keep, [&](const std::string& root) {
    std::vector<decltype(run_shape(tiny, root))> out;
    for (const Shape& s : shapes) out.push_back(run_shape(s, root));
    return out;
  });
}

}  // namespace r1::cli
