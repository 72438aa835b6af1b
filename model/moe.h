// DeepSeekMoE: token routing (V3 sigmoid scores with the bias-corrected, group-limited top-k; V2 softmax
// scores, greedy or group-limited) and the sparse dispatch of tokens to routed experts, plus the shared
// experts every token passes through.
//
// Routing follows HF transformers 5 and DeepSeek's reference: the router runs in fp32; the V3
// `e_score_correction_bias` only decides WHICH experts are picked, the weights are gathered from the
// unbiased scores, optionally normalised over the top-k (norm_topk_prob) and multiplied by
// routed_scaling_factor; a group's score is the sum of its two best biased scores and unselected groups
// are masked with -inf (a 0.0 fill would let a masked group beat negative biased scores).
// DeepSeek-V2 follows HF's port: group score = max, no top-k normalisation.
// Dispatch sorts the (token, slot) pairs by expert once, runs each expert on one contiguous slice and
// scatters back with index_add — no per-expert masks, one host sync for the counts. Padded tokens are not
// dispatched at all (their outputs are meaningless and masked downstream), so padding costs no expert FLOPs.
// Autograd flows through the expert weights, the gate (via the gathered scores) and the inputs; the
// selection itself is discrete, as in the paper.
//
// FP8 experts (the rollout copy, MoeWeights::fp8 set): the same router, then the kernels' grouped path
// (kernels/moe.h, kernels/moe_gemm.h) — route into a layout, quantise every token once (1x128), gather
// codes and scales, grouped GEMM with [gate; up] stacked per expert, swiglu_quant, grouped GEMM with
// down, weighted unpermute — on CUDA the sm_90a kernels, on the CPU their references. Prefill (more than
// one token per row) uses the contiguous layout; a decode step (one token per row) the masked layout with
// max_m = tokens, which never drops a token and whose shapes depend only on (tokens, E): nothing is read
// on the host, so the step can be captured in a CUDA graph. Padded tokens are not filtered out (that
// needs a host read) but routed to expert id -1, which the kernels drop. The load returned is the
// layout's expert counts; the sequence-wise balance loss is a training quantity and is refused.
// [gate; up] is quantised as ONE [2I, H] matrix per expert: when I is not a multiple of 128 a 128x128
// block straddles gate and up rows, so the stacked form is not two separately quantised halves.
//
// Letters: N tokens, H hidden, E routed experts, K experts per token, I expert width, P permuted rows.
#pragma once

#include <vector>

#include <ATen/ATen.h>

#include "kernels/fp8_quant.h"
#include "model/config.h"
#include "model/layers.h"

namespace r1::model {

// The routed experts in FP8, stacked for the grouped GEMM.
struct Fp8Experts {
  kernels::Fp8Blocks gate_up;  // data uint8 [E, 2I, H], scale fp32 [E, ceil(2I/128), ceil(H/128)]
  kernels::Fp8Blocks down;     // data uint8 [E, H, I], scale fp32 [E, ceil(H/128), ceil(I/128)]
};

struct MoeWeights {
  at::Tensor gate_weight;      // [E, H]
  at::Tensor correction_bias;  // [E] fp32 (V3) or undefined (V2)
  std::vector<MlpWeights> experts;
  MlpWeights shared;
  bool has_shared = false;
  Fp8Experts fp8;              // optional FP8 form of `experts` (set: moe_forward takes the grouped path)
  bool has_fp8() const { return fp8.gate_up.data.defined(); }
};

// (Re)quantises the routed experts into w.fp8, one expert at a time (so no [E, 2I, H] dense stack is
// ever made); a second call overwrites the codes and scales in place. Returns the bytes held.
int64_t quantize_experts(MoeWeights& w);

struct Routing {
  at::Tensor indices;  // [N, K] int64
  at::Tensor weights;  // [N, K] fp32 (differentiable w.r.t. the gate and the input)
  at::Tensor scores;   // [N, E] fp32 router scores (sigmoid or softmax)
};

Routing route_tokens(const at::Tensor& x, const MoeWeights& w, const ModelConfig& config);

// What the caller wants back from one MoE layer besides its output.
struct MoeStats {
  at::Tensor load;          // [E] int64: tokens routed to each expert (valid tokens only)
  at::Tensor balance_loss;  // scalar: DeepSeek-V3 sequence-wise balance loss sum_i f_i P_i, mean over sequences
};

// x [B, T, H] → [B, T, H]. token_valid [B, T] (bool/int, may be undefined = all valid): invalid tokens are
// not routed and not counted. When `want_balance_loss`, stats->balance_loss is filled (needs stats); its
// "sequences" are the rows, or, when sequence_ids [B, T] int64 is given (packed rows), the runs of tokens
// of a row sharing an id. Sequences without valid tokens are left out of the mean. With w.has_fp8() the
// grouped FP8 path runs (see above); asking it for the balance loss is an r1::Error.
at::Tensor moe_forward(const at::Tensor& x, const MoeWeights& w, const ModelConfig& config, const at::Tensor& token_valid,
                       MoeStats* stats, bool want_balance_loss, const at::Tensor& sequence_ids = {});

}  // namespace r1::model
