// Generation: a left-padded batch gives each row what it gets alone; sampling is deterministic per seed and
// independent of the other rows; top_k = 1 is greedy; EOS, stop strings and max_new_tokens end rows with the
// right reason; the reported log-probs are those of the unmodified model distribution.
#include <gtest/gtest.h>

#include <ATen/core/grad_mode.h>

#include <cmath>

#include "common/error.h"
#include "model/generate.h"
#include "model_test_util.h"

namespace r1::model {
namespace {

using testing::config_of;

std::vector<std::vector<int64_t>> prompts() { return {{5, 6, 7, 8, 9, 10, 11}, {12, 13}, {20, 21, 22, 23}, {30}}; }

// log p(token) of each generated token by a full forward over prompt + generated tokens.
// Log-probs of `tokens` after `prompt` under softmax(logits / temperature), by one plain forward.
std::vector<double> reference_logprobs(const CausalLM& m, const std::vector<int64_t>& prompt,
                                       const std::vector<int64_t>& tokens, double temperature = 1.0) {
  std::vector<int64_t> seq = prompt;
  seq.insert(seq.end(), tokens.begin(), tokens.end());
  at::NoGradGuard ng;
  at::Tensor ids = at::tensor(seq, at::kLong).unsqueeze(0);
  at::Tensor lp = at::log_softmax(m.logits(m.forward(ids).hidden) / temperature, -1)[0];
  std::vector<double> out;
  for (size_t i = 0; i < tokens.size(); ++i) out.push_back(lp[static_cast<int64_t>(prompt.size() + i - 1)][tokens[i]].item<double>());
  return out;
}

class GenerateAllArchs : public ::testing::TestWithParam<std::string> {};

TEST_P(GenerateAllArchs, BatchedEqualsAloneAndLogprobsAreTheModels) {
  auto m = CausalLM::init_random(config_of(GetParam()), 21);
  GenerationConfig g;
  g.max_new_tokens = 9;
  g.greedy = true;
  auto batch = generate(*m, prompts(), g);
  for (size_t i = 0; i < prompts().size(); ++i) {
    auto alone = generate(*m, std::vector<std::vector<int64_t>>{prompts()[i]}, g);
    EXPECT_EQ(batch[i].tokens, alone[0].tokens) << "row " << i;
    EXPECT_EQ(batch[i].tokens.size(), 9u);
    EXPECT_EQ(batch[i].finish, FinishReason::kLength);
    auto ref = reference_logprobs(*m, prompts()[i], batch[i].tokens);
    for (size_t t = 0; t < ref.size(); ++t) EXPECT_NEAR(batch[i].logprobs[t], ref[t], 2e-5) << "row " << i << " t " << t;
  }
  // Sampling: same seed → same tokens; every row independent of the batch it runs in.
  g.greedy = false;
  g.temperature = 1.3;
  g.top_p = 0.9;
  g.seed = 42;
  auto s1 = generate(*m, prompts(), g);
  auto s2 = generate(*m, prompts(), g);
  for (size_t i = 0; i < s1.size(); ++i) EXPECT_EQ(s1[i].tokens, s2[i].tokens);
  // Log-probs of the distribution sampled from: at temperature 1.3, before the top-p cut.
  auto ref = reference_logprobs(*m, prompts()[2], s1[2].tokens, 1.3);
  for (size_t t = 0; t < ref.size(); ++t) EXPECT_NEAR(s1[2].logprobs[t], ref[t], 2e-5);
  auto untempered = reference_logprobs(*m, prompts()[2], s1[2].tokens, 1.0);
  double differ = 0;
  for (size_t t = 0; t < ref.size(); ++t) differ = std::max(differ, std::abs(untempered[t] - ref[t]));
  EXPECT_GT(differ, 1e-3) << "temperature 1.3 should change the log-probs";
  g.seed = 43;
  auto s3 = generate(*m, prompts(), g);
  bool differs = false;
  for (size_t i = 0; i < s1.size(); ++i) differs |= s1[i].tokens != s3[i].tokens;
  EXPECT_TRUE(differs);
}

INSTANTIATE_TEST_SUITE_P(Archs, GenerateAllArchs,
                         ::testing::Values(testing::tiny_v3_json(), testing::tiny_v2_json(), testing::tiny_qwen2_json(),
                                           testing::tiny_llama_json()));

TEST(Generate, EosStopStringsLengthAndCompaction) {
  auto m = CausalLM::init_random(config_of(testing::tiny_qwen2_json()), 3);
  GenerationConfig g;
  g.max_new_tokens = 12;
  g.temperature = 1.0;
  g.seed = 1;
  std::vector<std::vector<int64_t>> many;
  for (int i = 0; i < 16; ++i) many.push_back({static_cast<int64_t>(3 + i), 4, static_cast<int64_t>(50 + i)});
  auto free_run = generate(*m, many, g);
  // Pick as EOS the 3rd token of row 0: rows stop at their first occurrence of it, which includes it.
  const int64_t eos = free_run[0].tokens[2];
  g.eos_ids = {eos};
  auto with_eos = generate(*m, many, g);
  for (size_t i = 0; i < many.size(); ++i) {
    const auto& full = free_run[i].tokens;
    const auto it = std::find(full.begin(), full.end(), eos);
    if (it == full.end()) {
      EXPECT_EQ(with_eos[i].tokens, full) << i;  // compaction of the others did not change this row
      EXPECT_EQ(with_eos[i].finish, FinishReason::kLength);
    } else {
      EXPECT_EQ(with_eos[i].tokens, std::vector<int64_t>(full.begin(), it + 1)) << i;
      EXPECT_EQ(with_eos[i].finish, FinishReason::kEos);
    }
  }
  // Stop strings through a decode function: "tokens as letters".
  g.eos_ids.clear();
  g.decode = [](const std::vector<int64_t>& ids) {
    std::string s;
    for (int64_t id : ids) s += static_cast<char>('a' + id % 26);
    return s;
  };
  const std::string stop = g.decode({free_run[1].tokens[3], free_run[1].tokens[4]});
  g.stop_strings = {stop};
  auto stopped = generate(*m, many, g);
  EXPECT_EQ(stopped[1].finish, FinishReason::kStop);
  EXPECT_LE(stopped[1].tokens.size(), 5u);
  EXPECT_NE(g.decode(stopped[1].tokens).find(stop), std::string::npos);
  // max_new_tokens 0 and bad settings.
  g.max_new_tokens = 0;
  EXPECT_TRUE(generate(*m, many, g)[0].tokens.empty());
  g.max_new_tokens = 4;
  g.top_p = 0.0;
  EXPECT_THROW(generate(*m, many, g), Error);
  g.top_p = 1.0;
  g.decode = nullptr;
  EXPECT_THROW(generate(*m, many, g), Error);  // stop strings without a decoder
  g.stop_strings.clear();
  EXPECT_THROW(generate(*m, std::vector<std::vector<int64_t>>{{}}, g), Error);
  EXPECT_THROW(generate(*m, std::vector<std::vector<int64_t>>{{1, 999}}, g), Error);  // id out of vocab
  at::Tensor right_padded = at::tensor({5, 6, 0}, at::kLong).unsqueeze(0);
  EXPECT_THROW(generate(*m, right_padded, at::tensor({1, 1, 0}, at::kLong).unsqueeze(0), g), Error);
}

TEST(SelectTokens, TopKOneIsGreedyAndTopPKeepsTheNucleus) {
  at::Tensor logits = at::tensor({0.0f, 3.0f, 1.0f, 2.9f}, at::kFloat).unsqueeze(0).repeat({200, 1});
  at::Tensor u = at::linspace(0, 0.999, 200);
  GenerationConfig g;
  g.top_k = 1;
  EXPECT_TRUE((select_tokens(logits, g, u) == 1).all().item<bool>());
  g.top_k = 0;
  g.top_p = 0.5;  // p(1) ≈ 0.47 < 0.5 → the nucleus is {1, 3}
  at::Tensor t = select_tokens(logits, g, u);
  EXPECT_TRUE(at::logical_or(t == 1, t == 3).all().item<bool>());
  EXPECT_TRUE((t == 1).any().item<bool>());
  EXPECT_TRUE((t == 3).any().item<bool>());
  g.top_p = 1.0;  // inverse CDF: the share of each token follows its probability
  t = select_tokens(logits, g, u);
  at::Tensor p = at::softmax(logits[0], -1);
  for (int64_t v = 0; v < 4; ++v) EXPECT_NEAR((t == v).sum().item<double>() / 200.0, p[v].item<double>(), 0.02) << v;
  g.sample_vocab = 3;  // id 3 is never produced, greedy or sampled
  EXPECT_FALSE((select_tokens(logits, g, u) == 3).any().item<bool>());
  g.greedy = true;
  EXPECT_TRUE((select_tokens(logits, g, u) == 1).all().item<bool>());
  g.sample_vocab = 1;
  EXPECT_TRUE((select_tokens(logits, g, u) == 0).all().item<bool>());
}

}  // namespace
}  // namespace r1::model
