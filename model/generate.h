// Batched text generation with a KV cache: left-padded prompts of different lengths decoded together,
// greedy or sampled (temperature, top-k, top-p, seed), stopping per row on EOS ids, stop strings or
// max_new_tokens. This is the rollout engine of GRPO (many sequences per prompt, short answers). It runs
// the model's cached forward, i.e. its FP8 rollout copy when it has one (CausalLM::make_rollout_copy).
//
// What a row returns: its generated token ids (the EOS or the token completing a stop string included),
// the log-probability of each token under the distribution it was sampled from — softmax(logits /
// temperature), before top-k / top-p truncation; temperature 1 for greedy decoding — which is what the
// GRPO trainer recomputes as log pi_old (rl/stages/grpo.h), and why it finished.
//
// Tricks, and departures from HF generate:
//   * Positions come from the mask (cumsum - 1), as in HF generate; slots are shared by all rows.
//   * For MLA the cache holds only the normalised latent and the rope key (absorbed attention).
//   * Finished rows leave the batch: once a few rows are done (>= 1/8 of the batch) the cache is
//     compacted with index_select, so they stop costing compute.
//   * Prefix sharing: rows with identical prompts (GRPO passes G copies of each) are prefilled once and
//     their cache rows copied to the G rows (KVCache::keep_rows) — the prefill costs distinct prompts,
//     not rows. The copies are exact, so results do not change (tests check it).
//   * No host read per token: sampled ids and log-probs stay on the device and are read every
//     `sync_every` steps (EOS, stop strings and compaction are decided then, token by token in order, so
//     the outcome is the same as checking every step; a finished row just computes a few extra tokens
//     that are thrown away). The uniforms of all steps are drawn up front from the same generator in
//     the same order as one draw per step, and copied to the device once.
//   * Decode loops (GenerationConfig::decode_loop): kEager calls forward_cached (keys up to the filled
//     slot); kStatic calls CausalLM::decode_step (fixed shapes over the whole capacity, no host read: the
//     step a CUDA graph can hold) eagerly — on the CPU that is how the captured step is tested; kCudaGraph
//     records decode_step + sampling once per batch size in a CUDA graph (model/decode_step.h) and replays
//     it. kStatic/kCudaGraph need MoE layers on the FP8 rollout copy (dense experts read counts on the
//     host).
//   * Sampling draws one uniform per ORIGINAL row per step from a generator seeded with `seed`, so a row's
//     tokens depend only on (seed, row, prompt, model) — not on which other rows finished when; the same
//     seed reproduces the same completions. A window of a larger batch (GenerationConfig::window_rows) samples
//     each row as it would in that batch. Tokens are sampled by inverse CDF: over the vocabulary in id
//     order for plain sampling (no sort), over the top-k (topk, not a full sort) or the sorted distribution
//     when top-p needs it.
//   * Stop strings are matched in the decoded text of the last generated tokens (a window of
//     max(32, 4 × longest stop string) tokens) through the caller's decode function.
//   * Runs under c10::InferenceMode: no autograd graph; the results are plain data.
//
// Letters: B rows, T prompt length (padded), V vocab.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "model/causal_lm.h"

namespace r1::model {

enum class DecodeLoop {
  kEager,      // forward_cached over the filled slots: the reference, and the CPU default
  kStatic,     // CausalLM::decode_step (capture-ready: fixed shapes, no host reads), run eagerly
  kCudaGraph,  // decode_step + sampling recorded in a CUDA graph per batch size and replayed (CUDA builds)
};

struct GenerationConfig {
  int64_t max_new_tokens = 64;
  bool greedy = false;        // argmax (also when temperature == 0)
  double temperature = 1.0;
  double top_p = 1.0;         // nucleus: keep the smallest set of tokens whose mass reaches top_p
  int64_t top_k = 0;          // 0 = off
  uint64_t seed = 0;
  std::vector<int64_t> eos_ids;            // empty: none (the model config's eos_token_id is NOT implied)
  std::vector<std::string> stop_strings;   // needs `decode`
  std::function<std::string(const std::vector<int64_t>&)> decode;  // token ids → text (e.g. Tokenizer::decode)
  int64_t pad_id = 0;                      // used to left-pad prompts given as id lists
  // Ids >= sample_vocab are never produced (0 = no limit). Set it to the tokenizer's vocab_size when the
  // model's embedding is padded beyond the tokenizer (e.g. Qwen2.5); log-probs stay those of the full
  // distribution.
  int64_t sample_vocab = 0;
  DecodeLoop decode_loop = DecodeLoop::kEager;
  // Generated ids are read on the host (EOS, stop strings, compaction) every this many steps; 0 = every
  // step on the CPU (a read costs nothing there and finished rows leave the batch sooner), every 8 on CUDA
  // (each read waits for the device queue to drain).
  int64_t sync_every = 0;
  bool share_prompts = true;  // prefill identical prompts once (results unchanged)
  // The rows given are rows [window_first_row, window_first_row + B) of a batch of window_rows rows (0: the
  // rows are the whole batch): each row samples with the uniforms it would have had in that batch, so a batch
  // split over processes (GRPO's data parallelism) samples what one process would.
  int64_t window_rows = 0;
  int64_t window_first_row = 0;
};

// Counters of one generate() call (for tests and rollout metrics).
struct GenerationStats {
  int64_t prefill_rows = 0;    // rows the prefill ran on: distinct prompts when sharing
  int64_t prefill_tokens = 0;  // prefill_rows × padded prompt length
  int64_t decode_steps = 0;    // single-token forwards after the prefill
  int64_t host_reads = 0;      // device→host reads of generated ids in the decode loop
  int64_t graph_captures = 0;  // CUDA graphs recorded (kCudaGraph)
};

enum class FinishReason { kEos, kStop, kLength };
const char* finish_reason_name(FinishReason r);  // "eos", "stop", "length"

struct GenerationResult {
  std::vector<int64_t> tokens;   // generated ids only
  std::vector<float> logprobs;   // log p(token) under the unmodified model distribution, one per token
  FinishReason finish = FinishReason::kLength;
  bool truncated() const { return finish == FinishReason::kLength; }
};

// input_ids [B, T] int64, left-padded; attention_mask [B, T] (1 = real; undefined = all real). Every row
// needs at least one real token. Throws r1::Error for bad inputs or settings, for a sequence classifier
// (no LM head), and for a model whose rollout copy is stale (refresh_rollout_copy() after the optimizer
// step). `stats`, when given, is filled.
std::vector<GenerationResult> generate(const CausalLM& model, const at::Tensor& input_ids,
                                       const at::Tensor& attention_mask, const GenerationConfig& config,
                                       GenerationStats* stats = nullptr);

// Prompts as id lists (left-padded internally with config.pad_id).
std::vector<GenerationResult> generate(const CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                                       const GenerationConfig& config, GenerationStats* stats = nullptr);

// Picks the next token per row from fp32 logits [B, V]: greedy, or sampled with temperature/top-k/top-p
// using one uniform in [0, 1) per row (`uniforms` [B]). Exposed for tests.
at::Tensor select_tokens(const at::Tensor& logits, const GenerationConfig& config, const at::Tensor& uniforms);

}  // namespace r1::model
