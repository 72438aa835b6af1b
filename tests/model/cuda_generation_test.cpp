// Generation on a CUDA GPU through the kernels (skipped, with the reason, on a CPU build or a machine
// without a GPU): the FP8 rollout copy with the paged MLA cache on CUDA against the same model on the CPU
// (the kernels' references), and the CUDA-graph decode loop against the eager and static loops.
//
// The model is DeepSeek-V3-shaped where the kernels need it (kv_lora_rank 512 + rope 64 for mla_decode,
// widths multiple of 16 for the tensor-core GEMM, 16 heads per MLA CTA) and tiny elsewhere; bf16, as
// mla_decode on CUDA requires. These tests have never run (no GPU where they were written): their
// tolerances are estimates and each prints what it measured.
#include <gtest/gtest.h>

#include <c10/core/InferenceMode.h>

#include <cmath>
#include <cstdio>

#include "kernels/kernel_test_util.h"  // R1_REQUIRE_CUDA
#include "model/generate.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

std::string v3_kernel_shaped_json() {
  return R"({"architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
    "vocab_size": 512, "hidden_size": 256, "intermediate_size": 384, "moe_intermediate_size": 128,
    "num_hidden_layers": 2, "first_k_dense_replace": 1, "num_attention_heads": 16, "num_key_value_heads": 16,
    "q_lora_rank": 128, "kv_lora_rank": 512, "qk_nope_head_dim": 64, "qk_rope_head_dim": 64,
    "v_head_dim": 64, "n_routed_experts": 8, "num_experts_per_tok": 2, "n_shared_experts": 1, "n_group": 4,
    "topk_group": 2, "norm_topk_prob": true, "routed_scaling_factor": 2.5, "max_position_embeddings": 512,
    "rms_norm_eps": 1e-6, "tie_word_embeddings": false, "rope_interleave": true,
    "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0}, "num_nextn_predict_layers": 0,
    "bos_token_id": 0, "eos_token_id": 1, "initializer_range": 0.05})";
}

double rel_error(const at::Tensor& a, const at::Tensor& b) {
  const at::Tensor x = a.to(at::kCPU, at::kDouble), y = b.to(at::kCPU, at::kDouble);
  return (x - y).norm().item<double>() / y.norm().item<double>();
}

// 24 distinct prompts of 1-7 tokens, then copies of the first 8 (prefix sharing).
std::vector<std::vector<int64_t>> prompts(int64_t vocab) {
  std::vector<std::vector<int64_t>> out;
  for (int i = 0; i < 24; ++i) {
    std::vector<int64_t> p;
    for (int t = 0; t <= i % 7; ++t) p.push_back(2 + (37 * i + 11 * t) % (vocab - 2));
    out.push_back(p);
  }
  for (int g = 0; g < 8; ++g) out.push_back(out[static_cast<size_t>(g)]);  // shared prompts too
  return out;
}

std::unique_ptr<CausalLM> rollout_model(at::Device device) {
  auto m = CausalLM::init_random(ModelConfig::from_json(v3_kernel_shaped_json(), "v3 kernel-shaped"), 5,
                                 at::kBFloat16, device);
  m->set_mla_modes(MlaMode::kNaive, MlaMode::kPaged);
  m->make_rollout_copy(WeightFormat::kFp8);
  return m;
}

TEST(CudaGeneration, Fp8PagedModelOnTheGpuMatchesTheCpuReferences) {
  R1_REQUIRE_CUDA();
  auto gpu = rollout_model(at::Device(at::kCUDA));
  auto cpu = rollout_model(at::Device(at::kCPU));
  const RolloutCopyStats stats = gpu->rollout_copy_stats();
  std::printf("  FP8 copy on the GPU: %lld matrices, %lld bytes, %.3f ms\n", static_cast<long long>(stats.matrices),
              static_cast<long long>(stats.bytes), stats.seconds * 1e3);
  // Prefill then 20 decode steps, teacher-forced, through both devices.
  const std::vector<int64_t> seq = {3, 17, 250, 9, 77, 400, 12, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21};
  auto run = [&](const CausalLM& m) {
    c10::InferenceMode inference;
    const at::Device dev = m.device();
    const at::Tensor ids = at::tensor(seq, at::kLong).unsqueeze(0).to(dev);
    KVCache cache = m.new_cache(1, 80);
    std::vector<at::Tensor> logits = {m.logits(m.forward_cached(ids.narrow(1, 0, 4), at::arange(4, ids.options()).unsqueeze(0),
                                                                ids.narrow(1, 0, 4).ge(0), cache))};
    for (int64_t t = 4; t < static_cast<int64_t>(seq.size()); ++t) {
      logits.push_back(m.logits(m.forward_cached(ids.narrow(1, t, 1), at::full({1, 1}, t, ids.options()), {}, cache)));
    }
    return at::cat(logits, 1).to(at::kCPU);  // [1, T, V] fp32
  };
  const double err = rel_error(run(*gpu), run(*cpu));
  std::printf("  GPU vs CPU reference logits: relative error %.3g\n", err);
  EXPECT_LT(err, 5e-2);  // bf16 activations rounded in different orders, then FP8-quantised (estimate)
}

TEST(CudaGeneration, GraphReplayGeneratesWhatTheEagerLoopGenerates) {
  R1_REQUIRE_CUDA();
  auto m = rollout_model(at::Device(at::kCUDA));
  GenerationConfig g;
  g.max_new_tokens = 40;
  g.temperature = 1.0;
  g.seed = 11;
  const auto free_run = generate(*m, prompts(512), g);
  g.eos_ids = {free_run[0].tokens[5], free_run[3].tokens[9]};  // rows finish: compaction, recapture
  GenerationStats eager_stats, static_stats, graph_stats;
  const auto eager = generate(*m, prompts(512), g, &eager_stats);
  g.decode_loop = DecodeLoop::kStatic;
  const auto static_loop = generate(*m, prompts(512), g, &static_stats);
  g.decode_loop = DecodeLoop::kCudaGraph;
  const auto graph = generate(*m, prompts(512), g, &graph_stats);
  std::printf("  graph loop: %lld decode steps, %lld host reads, %lld captures, %lld prefill rows\n",
              static_cast<long long>(graph_stats.decode_steps), static_cast<long long>(graph_stats.host_reads),
              static_cast<long long>(graph_stats.graph_captures), static_cast<long long>(graph_stats.prefill_rows));
  EXPECT_GE(graph_stats.graph_captures, 1);
  EXPECT_LT(graph_stats.host_reads, graph_stats.decode_steps);  // every 8 steps by default on CUDA
  EXPECT_EQ(graph_stats.prefill_rows, 24);
  double max_lp = 0;
  for (size_t i = 0; i < graph.size(); ++i) {
    EXPECT_EQ(graph[i].tokens, static_loop[i].tokens) << "row " << i;  // the same kernels, replayed
    EXPECT_EQ(graph[i].finish, static_loop[i].finish) << "row " << i;
    EXPECT_EQ(graph[i].tokens, eager[i].tokens) << "row " << i;
    for (size_t t = 0; t < graph[i].logprobs.size() && t < eager[i].logprobs.size(); ++t) {
      max_lp = std::max(max_lp, static_cast<double>(std::abs(graph[i].logprobs[t] - eager[i].logprobs[t])));
    }
  }
  std::printf("  graph vs eager: max log-prob difference %.3g\n", max_lp);
  EXPECT_LT(max_lp, 1e-2);
}

TEST(CudaGeneration, DenseGqaModelCapturesToo) {
  R1_REQUIRE_CUDA();
  auto m = CausalLM::init_random(testing::config_of(testing::tiny_qwen2_json()), 3, at::kBFloat16,
                                 at::Device(at::kCUDA));
  GenerationConfig g;
  g.max_new_tokens = 24;
  g.greedy = true;
  g.decode_loop = DecodeLoop::kStatic;
  const auto static_loop = generate(*m, prompts(80), g);
  g.decode_loop = DecodeLoop::kCudaGraph;
  GenerationStats stats;
  const auto graph = generate(*m, prompts(80), g, &stats);
  EXPECT_EQ(stats.graph_captures, 1);  // no row ends early: one batch size
  // The static step's shapes differ from the eager one's (whole-capacity attention), so in bf16 only the
  // static loop is the graph's bit-for-bit twin.
  for (size_t i = 0; i < graph.size(); ++i) EXPECT_EQ(graph[i].tokens, static_loop[i].tokens) << "row " << i;
}

}  // namespace
}  // namespace r1::model
