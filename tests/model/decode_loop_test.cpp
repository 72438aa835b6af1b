// The restructured generation loop on the CPU: it gives what the per-step loop gave (EOS, stop strings,
// length) whatever the host-read interval; prefix sharing prefills distinct prompts only and changes no
// result; the paged MLA cache (kernels::mla_decode's reference) generates what the absorbed cache does and
// stores latents by position in row-owned blocks; the capture-ready static step (CausalLM::decode_step,
// what a CUDA graph records) generates what the eager step does.
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <set>

#include "common/error.h"
#include "model/generate.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

using testing::config_of;

// Left-pads prompts with 0: ids and mask [B, T].
std::pair<at::Tensor, at::Tensor> pad_left(const std::vector<std::vector<int64_t>>& prompts) {
  size_t T = 0;
  for (const auto& p : prompts) T = std::max(T, p.size());
  const int64_t B = static_cast<int64_t>(prompts.size());
  at::Tensor ids = at::zeros({B, static_cast<int64_t>(T)}, at::kLong), mask = at::zeros_like(ids);
  for (int64_t b = 0; b < B; ++b) {
    const auto& p = prompts[static_cast<size_t>(b)];
    for (size_t t = 0; t < p.size(); ++t) {
      ids[b][static_cast<int64_t>(T - p.size() + t)] = p[t];
      mask[b][static_cast<int64_t>(T - p.size() + t)] = 1;
    }
  }
  return {ids, mask};
}

// The loop generate() ran before tokens stayed on the device: every token read on the host at once,
// end-of-row checks per step, one uniform draw per step, no compaction, no prefix sharing.
std::vector<GenerationResult> per_step_reference(const CausalLM& m, const std::vector<std::vector<int64_t>>& prompts,
                                                 const GenerationConfig& g) {
  auto [ids, mask] = pad_left(prompts);
  const int64_t B = ids.size(0), T = ids.size(1);
  c10::InferenceMode inference;
  KVCache cache = m.new_cache(B, T + g.max_new_tokens);
  at::Tensor positions = (mask.cumsum(1) - 1).clamp_min(0);
  at::Tensor logits = m.logits(m.forward_cached(ids, positions, mask, cache).select(1, T - 1));  // [B, V]
  at::Tensor next_pos = positions.select(1, T - 1) + 1;
  at::Generator gen = at::detail::createCPUGenerator(g.seed);
  const std::set<int64_t> eos(g.eos_ids.begin(), g.eos_ids.end());
  size_t window = 32;
  for (const auto& s : g.stop_strings) window = std::max(window, 4 * s.size());
  std::vector<GenerationResult> out(static_cast<size_t>(B));
  std::vector<bool> done(static_cast<size_t>(B), false);
  for (int64_t step = 0; step < g.max_new_tokens; ++step) {
    at::Tensor u = at::rand({B}, gen, at::TensorOptions().dtype(at::kFloat));
    at::Tensor tok = select_tokens(logits, g, u);
    at::Tensor lp = at::log_softmax(logits, -1).gather(1, tok.unsqueeze(1)).squeeze(1);
    size_t n_done = 0;
    for (int64_t b = 0; b < B; ++b) {
      GenerationResult& r = out[static_cast<size_t>(b)];
      if (!done[static_cast<size_t>(b)]) {
        r.tokens.push_back(tok[b].item<int64_t>());
        r.logprobs.push_back(lp[b].item<float>());
        if (eos.count(r.tokens.back())) {
          r.finish = FinishReason::kEos;
          done[static_cast<size_t>(b)] = true;
        } else if (!g.stop_strings.empty()) {
          const size_t from = r.tokens.size() > window ? r.tokens.size() - window : 0;
          const std::string text = g.decode(std::vector<int64_t>(r.tokens.begin() + static_cast<long>(from), r.tokens.end()));
          for (const auto& s : g.stop_strings) {
            if (text.find(s) != std::string::npos) {
              r.finish = FinishReason::kStop;
              done[static_cast<size_t>(b)] = true;
            }
          }
        }
      }
      n_done += done[static_cast<size_t>(b)] ? 1 : 0;
    }
    if (n_done == static_cast<size_t>(B)) break;
    logits = m.logits(m.forward_cached(tok.unsqueeze(1), next_pos.unsqueeze(1), at::ones_like(tok).unsqueeze(1), cache)
                          .select(1, 0));
    next_pos = next_pos + 1;
  }
  return out;
}

std::string letters(const std::vector<int64_t>& ids) {
  std::string s;
  for (int64_t id : ids) s += static_cast<char>('a' + id % 26);
  return s;
}

std::vector<std::vector<int64_t>> batch_prompts() {
  std::vector<std::vector<int64_t>> out;
  for (int i = 0; i < 12; ++i) {
    std::vector<int64_t> p;
    for (int t = 0; t <= i % 5; ++t) p.push_back(3 + (7 * i + 5 * t) % 60);
    out.push_back(p);
  }
  return out;
}

void expect_same(const std::vector<GenerationResult>& a, const std::vector<GenerationResult>& b, double lp_tol,
                 const std::string& what) {
  ASSERT_EQ(a.size(), b.size()) << what;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].tokens, b[i].tokens) << what << " row " << i;
    EXPECT_EQ(a[i].finish, b[i].finish) << what << " row " << i;
    ASSERT_EQ(a[i].logprobs.size(), b[i].logprobs.size()) << what << " row " << i;
    for (size_t t = 0; t < a[i].logprobs.size(); ++t) {
      if (lp_tol == 0) {
        EXPECT_EQ(a[i].logprobs[t], b[i].logprobs[t]) << what << " row " << i << " t " << t;
      } else {
        EXPECT_NEAR(a[i].logprobs[t], b[i].logprobs[t], lp_tol) << what << " row " << i << " t " << t;
      }
    }
  }
}

// A batch where some rows end on EOS, some on a stop string, the rest at max_new_tokens; sampled.
GenerationConfig mixed_finish_config(const CausalLM& m) {
  GenerationConfig g;
  g.max_new_tokens = 14;
  g.temperature = 1.0;
  g.seed = 7;
  const auto free_run = generate(m, batch_prompts(), g);
  g.eos_ids = {free_run[0].tokens[3], free_run[5].tokens[6]};
  g.decode = letters;
  g.stop_strings = {letters({free_run[2].tokens[4], free_run[2].tokens[5]})};
  return g;
}

class LoopArchs : public ::testing::TestWithParam<std::string> {};

TEST_P(LoopArchs, HostReadIntervalsGiveThePerStepLoopsResults) {
  auto m = CausalLM::init_random(config_of(GetParam()), 4);
  GenerationConfig g = mixed_finish_config(*m);
  const auto reference = per_step_reference(*m, batch_prompts(), g);
  std::set<FinishReason> reasons;
  for (const auto& r : reference) reasons.insert(r.finish);
  ASSERT_EQ(reasons.size(), 3u) << "the batch must end rows on EOS, stop strings and length";
  for (int64_t every : {1, 3, 8, 100}) {
    g.sync_every = every;
    GenerationStats stats;
    const auto got = generate(*m, batch_prompts(), g, &stats);
    // Compaction changes the batch a row is computed in (at other steps than the reference, which never
    // compacts): the same tokens, log-probs equal up to float summation order.
    expect_same(got, reference, 2e-5, "sync_every " + std::to_string(every));
    EXPECT_LE(stats.host_reads, (stats.decode_steps + every) / every) << every;
    EXPECT_GE(stats.host_reads, 1);
  }
  // The default on the CPU is a read per step, like the old loop.
  g.sync_every = 0;
  GenerationStats stats;
  generate(*m, batch_prompts(), g, &stats);
  EXPECT_EQ(stats.host_reads, stats.decode_steps + 1);
}

TEST_P(LoopArchs, PrefixSharingPrefillsDistinctPromptsOnlyAndChangesNothing) {
  auto m = CausalLM::init_random(config_of(GetParam()), 6);
  // 3 distinct prompts x 4 copies, interleaved; {0, 5, 6} differs from {5, 6} only by a REAL leading 0,
  // which left-padding with 0 would hide if masks were not compared.
  const std::vector<std::vector<int64_t>> distinct = {{5, 6}, {0, 5, 6}, {9, 8, 7, 6}};
  std::vector<std::vector<int64_t>> rows;
  for (int g = 0; g < 4; ++g)
    for (const auto& p : distinct) rows.push_back(p);
  GenerationConfig g;
  g.max_new_tokens = 8;
  g.temperature = 1.1;
  g.seed = 3;
  g.eos_ids = {7};
  GenerationStats shared, separate;
  const auto a = generate(*m, rows, g, &shared);
  g.share_prompts = false;
  const auto b = generate(*m, rows, g, &separate);
  EXPECT_EQ(shared.prefill_rows, 3);
  EXPECT_EQ(shared.prefill_tokens, 3 * 4);
  EXPECT_EQ(separate.prefill_rows, 12);
  expect_same(a, b, 2e-5, "shared vs separate prefill");
  bool differ = false;  // copies of a prompt sample independently
  for (size_t i = 3; i < a.size(); ++i) differ |= a[i].tokens != a[i % 3].tokens;
  EXPECT_TRUE(differ);
}

INSTANTIATE_TEST_SUITE_P(Archs, LoopArchs,
                         ::testing::Values(testing::tiny_v3_json(), testing::tiny_qwen2_json(), testing::tiny_llama_json()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return std::string(info.index == 0 ? "v3" : info.index == 1 ? "qwen2" : "llama");
                         });

// MLA: the paged cache through mla_decode's reference against the absorbed slot cache.
class PagedMla : public ::testing::TestWithParam<std::string> {};

TEST_P(PagedMla, GenerationEqualsTheAbsorbedCache) {
  auto m = CausalLM::init_random(config_of(GetParam()), 12);
  GenerationConfig g = mixed_finish_config(*m);
  g.max_new_tokens = 70;  // past one 64-token block
  g.stop_strings.clear();
  std::vector<std::vector<int64_t>> prompts = batch_prompts();
  for (int i = 0; i < 3; ++i) prompts.push_back(prompts[static_cast<size_t>(i)]);  // shared prefills too
  m->set_mla_modes(MlaMode::kNaive, MlaMode::kAbsorbed);
  const auto absorbed = generate(*m, prompts, g);
  m->set_mla_modes(MlaMode::kNaive, MlaMode::kPaged);
  GenerationStats stats;
  const auto paged = generate(*m, prompts, g, &stats);
  EXPECT_EQ(stats.prefill_rows, 12);
  expect_same(paged, absorbed, 1e-5, "paged vs absorbed (sampled, EOS)");
  g.greedy = true;
  g.eos_ids.clear();
  const auto paged_greedy = generate(*m, prompts, g);
  m->set_mla_modes(MlaMode::kNaive, MlaMode::kAbsorbed);
  expect_same(paged_greedy, generate(*m, prompts, g), 1e-5, "paged vs absorbed (greedy)");
}

INSTANTIATE_TEST_SUITE_P(Mla, PagedMla, ::testing::Values(testing::tiny_v3_json(), testing::tiny_v2_json()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return std::string(info.index == 0 ? "v3" : "v2");
                         });

TEST(PagedMla, LatentsAreStoredByPositionInRowOwnedBlocks) {
  auto m = CausalLM::init_random(config_of(testing::tiny_v3_json()), 2);
  auto [ids, mask] = pad_left({{5, 6, 7, 8, 9}, {12, 13}, {20, 21, 22}});
  const at::Tensor positions = (mask.cumsum(1) - 1).clamp_min(0);
  c10::InferenceMode inference;
  m->set_mla_modes(MlaMode::kNaive, MlaMode::kAbsorbed);
  KVCache slots = m->new_cache(3, 70);
  m->forward_cached(ids, positions, mask, slots);
  m->set_mla_modes(MlaMode::kNaive, MlaMode::kPaged);
  KVCache paged = m->new_cache(3, 70);
  ASSERT_EQ(paged.layers[0].latent.size(1), 128);  // capacity 70 rounded up to 64-token blocks
  EXPECT_TRUE(at::equal(paged.block_table, at::arange(6, at::kInt).view({3, 2})));
  m->forward_cached(ids, positions, mask, paged);
  const std::vector<int64_t> lengths = {5, 2, 3};
  for (size_t layer = 0; layer < paged.layers.size(); ++layer) {
    for (int64_t b = 0; b < 3; ++b) {
      const int64_t L = lengths[static_cast<size_t>(b)], pad = 5 - L;
      const at::Tensor got = paged.layers[layer].latent[b];                  // [C', R+Dr]
      EXPECT_TRUE(at::equal(got.narrow(0, 0, L), slots.layers[layer].latent[b].narrow(0, pad, L))) << layer << " " << b;
      EXPECT_EQ(got.narrow(0, L, 128 - L).abs().sum().item<double>(), 0.0);  // pads never written
    }
  }
  paged.keep_rows(at::tensor({2, 0, 0}, at::kLong));  // drop a row, repeat one: blocks renumbered
  EXPECT_TRUE(at::equal(paged.block_table, at::arange(6, at::kInt).view({3, 2})));
  EXPECT_TRUE(at::equal(paged.layers[0].latent[1], paged.layers[0].latent[2]));
  // A multi-token step after the prefill has no kernel to run.
  EXPECT_THROW(m->forward_cached(ids.narrow(1, 0, 2), positions.narrow(1, 0, 2), {}, paged), Error);
  EXPECT_THROW(m->set_mla_modes(MlaMode::kPaged, MlaMode::kPaged), Error);
}

// The static step against the eager one, over the cache variants and with the FP8 copy where MoE needs it.
struct StaticCase {
  std::string name, json;
  MlaMode cache_mode;
  bool fp8;
};

class StaticDecode : public ::testing::TestWithParam<StaticCase> {};

TEST_P(StaticDecode, GeneratesWhatTheEagerStepGenerates) {
  const StaticCase& c = GetParam();
  auto m = CausalLM::init_random(config_of(c.json), 17);
  m->set_mla_modes(MlaMode::kNaive, c.cache_mode);
  if (c.fp8) m->make_rollout_copy(WeightFormat::kFp8);
  GenerationConfig g = mixed_finish_config(*m);
  const auto eager = generate(*m, batch_prompts(), g);
  g.decode_loop = DecodeLoop::kStatic;
  g.sync_every = 4;
  const auto static_loop = generate(*m, batch_prompts(), g);
  // Attention over the whole capacity adds masked (zero-weight) keys: the same tokens, log-probs equal up
  // to summation order.
  expect_same(static_loop, eager, 2e-5, c.name);
}

INSTANTIATE_TEST_SUITE_P(
    Caches, StaticDecode,
    ::testing::Values(StaticCase{"qwen2_gqa", testing::tiny_qwen2_json(), MlaMode::kAbsorbed, false},
                      StaticCase{"llama_gqa_fp8", testing::tiny_llama_json(), MlaMode::kAbsorbed, true},
                      StaticCase{"v3_absorbed_fp8", testing::tiny_v3_json(), MlaMode::kAbsorbed, true},
                      StaticCase{"v3_paged_fp8", testing::tiny_v3_json(), MlaMode::kPaged, true},
                      StaticCase{"v2_naive_fp8", testing::tiny_v2_json(), MlaMode::kNaive, true}),
    [](const ::testing::TestParamInfo<StaticCase>& info) { return info.param.name; });

TEST(StaticDecode, UnsupportedCombinationsAreErrors) {
  auto m = CausalLM::init_random(config_of(testing::tiny_v3_json()), 1);
  GenerationConfig g;
  g.max_new_tokens = 3;
  g.decode_loop = DecodeLoop::kStatic;
  EXPECT_THROW(generate(*m, batch_prompts(), g), Error);  // dense routed experts read counts on the host
  g.decode_loop = DecodeLoop::kCudaGraph;
  EXPECT_THROW(generate(*m, batch_prompts(), g), Error);  // a CPU model
  g.decode_loop = DecodeLoop::kEager;
  g.sync_every = -1;
  EXPECT_THROW(generate(*m, batch_prompts(), g), Error);
}

}  // namespace
}  // namespace r1::model
