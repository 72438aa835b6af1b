// Batches for causal-LM training (pretraining and SFT): token sequences with a per-token loss mask,
// packed several to a row or padded one per row.
//
// A Sequence is token ids plus a train mask of the same length (1 where the token is a prediction target:
// every token for pretraining, assistant tokens for SFT). The loss at position t predicts ids[t] from
// ids[<t], so the first token of a sequence is never a target.
//
// Packing (first-fit decreasing into rows of max_len tokens) puts several short sequences in one row. Each
// packed sequence gets its own positions (restarting at 0) and a segment id; the attention mask built from
// segment ids is block-diagonal causal, so packed sequences never see each other — the packed loss equals
// the unpacked loss exactly (tested). Sequences longer than max_len are truncated (counted, reported).
// Letters: B = rows, T = max_len.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace r1::rl {

struct Sequence {
  std::vector<int64_t> ids;
  std::vector<uint8_t> train;  // same length as ids; 1 = this token is a loss target
};

struct LmBatch {
  at::Tensor input_ids;     // [B, T] int64, pad_id where empty
  at::Tensor position_ids;  // [B, T] int64, restarting at 0 for each packed sequence
  at::Tensor segment_ids;   // [B, T] int64, 1.. per packed sequence, 0 on padding
  at::Tensor loss_mask;     // [B, T] float, 1 where ids[t] is a target (never at a sequence's first token)
  int64_t truncated = 0;    // sequences cut to max_len
};

// Packs (pack == true) or pads (one sequence per row) into rows of at most max_len tokens.
LmBatch make_lm_batch(const std::vector<Sequence>& sequences, int64_t max_len, int64_t pad_id, bool pack);

// The batch's tensors moved to `device` (the model's).
LmBatch to_device(LmBatch batch, at::Device device);

// The additive attention bias for a packed batch: [B, 1, T, T] with 0 where query t may attend key s
// (same segment, s ≤ t, segment ≠ 0) and -inf elsewhere (a padded query row attends only itself so that
// softmax stays finite).
at::Tensor packed_attention_bias(const at::Tensor& segment_ids, at::ScalarType dtype);

}  // namespace r1::rl
