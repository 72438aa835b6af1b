// Tests for LM batch construction: packing layout, loss masks, positions, the block-diagonal bias.
#include <gtest/gtest.h>

#include "rl/lm_batch.h"

namespace r1::rl {
namespace {

Sequence seq(std::vector<int64_t> ids, std::vector<uint8_t> train = {}) {
  if (train.empty()) train.assign(ids.size(), 1);
  return {ids, train};
}

TEST(LmBatch, PaddedOneSequencePerRow) {
  LmBatch b = make_lm_batch({seq({1, 2, 3}), seq({4, 5})}, 8, 0, false);
  ASSERT_EQ(b.input_ids.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(b.input_ids[1][2].item<int64_t>(), 0);
  EXPECT_EQ(b.loss_mask[0][0].item<float>(), 0.0f);  // first token is never a target
  EXPECT_EQ(b.loss_mask[0][2].item<float>(), 1.0f);
  EXPECT_EQ(b.loss_mask[1][2].item<float>(), 0.0f);  // padding
  EXPECT_EQ(b.segment_ids[1][2].item<int64_t>(), 0);
}

TEST(LmBatch, PackingFirstFitDecreasingWithRestartingPositions) {
  // Lengths 3, 5, 2, 2 into rows of 6, longest first: 5 → row 0; 3 → row 1; 2 → row 1 (5 + 2 > 6 for
  // row 0); the last 2 fits neither (5 + 2 both) → row 2.
  LmBatch b = make_lm_batch({seq({1, 1, 1}), seq({2, 2, 2, 2, 2}), seq({3, 3}), seq({4, 4})}, 6, 9, true);
  ASSERT_EQ(b.input_ids.sizes(), (std::vector<int64_t>{3, 6}));
  auto row = [&](int r) {
    std::vector<int64_t> v;
    for (int t = 0; t < 6; ++t) v.push_back(b.input_ids[r][t].item<int64_t>());
    return v;
  };
  EXPECT_EQ(row(0), (std::vector<int64_t>{2, 2, 2, 2, 2, 9}));
  EXPECT_EQ(row(1), (std::vector<int64_t>{1, 1, 1, 3, 3, 9}));
  EXPECT_EQ(row(2), (std::vector<int64_t>{4, 4, 9, 9, 9, 9}));
  EXPECT_EQ(b.position_ids[1][3].item<int64_t>(), 0);  // restarts for the second packed sequence
  EXPECT_EQ(b.segment_ids[1][4].item<int64_t>(), 2);
  EXPECT_EQ(b.loss_mask[1][3].item<float>(), 0.0f);    // its first token is not a target
  EXPECT_EQ(b.loss_mask[1][4].item<float>(), 1.0f);
}

TEST(LmBatch, TrainMaskAndTruncation) {
  LmBatch b = make_lm_batch({seq({1, 2, 3, 4}, {0, 0, 1, 1}), seq({5, 6, 7, 8, 9, 10}, {1, 1, 1, 1, 1, 1})}, 4, 0, false);
  EXPECT_EQ(b.truncated, 1);
  EXPECT_EQ(b.loss_mask[0][1].item<float>(), 0.0f);
  EXPECT_EQ(b.loss_mask[0][2].item<float>(), 1.0f);
  EXPECT_EQ(b.input_ids[1][3].item<int64_t>(), 8);
}

TEST(LmBatch, AttentionBiasIsBlockDiagonalCausal) {
  LmBatch b = make_lm_batch({seq({1, 1}), seq({2, 2, 2})}, 6, 0, true);
  at::Tensor bias = packed_attention_bias(b.segment_ids, at::kFloat);  // [1, 1, 6, 6]
  ASSERT_EQ(bias.sizes(), (std::vector<int64_t>{1, 1, 6, 6}));
  auto allowed = [&](int q, int k) { return std::isfinite(bias[0][0][q][k].item<float>()); };
  // Sequences are placed longest first: positions 0-2 = the 3-long one, 3-4 = the 2-long one, 5 = pad.
  EXPECT_TRUE(allowed(2, 0));
  EXPECT_FALSE(allowed(0, 1));  // causal
  EXPECT_FALSE(allowed(3, 2));  // other segment
  EXPECT_TRUE(allowed(4, 3));
  EXPECT_FALSE(allowed(4, 5));
  EXPECT_TRUE(allowed(5, 5));   // padded query sees itself only
  EXPECT_FALSE(allowed(5, 4));
  EXPECT_EQ(b.position_ids[0][3].item<int64_t>(), 0);
  EXPECT_EQ(b.position_ids[0][4].item<int64_t>(), 1);
}

}  // namespace
}  // namespace r1::rl
