// Batched text generation with a KV cache: left-padded prompts of different lengths decoded together,
// greedy or sampled (temperature, top-k, top-p, seed), stopping per row on EOS ids, stop strings or
// max_new_tokens. This is the rollout engine of GRPO (many sequences per prompt, short answers). It runs
// the model's cached forward, i.e. its FP8 rollout copy when it has one (CausalLM::make_rollout_copy).
//
// What a row returns: its generated token ids (the EOS or the token completing a stop string included),
// the log-probability of each token under the model's UNMODIFIED distribution (temperature 1, no top-k /
// top-p — the quantity the GRPO trainer recomputes as log pi_old), and why it finished.
//
// Tricks, and departures from HF generate:
//   * Positions come from the mask (cumsum - 1), as in HF generate; slots are shared by all rows.
//   * For MLA the cache holds only the normalised latent and the rope key (absorbed attention).
//   * Finished rows leave the batch: once a few rows are done (>= 1/8 of the batch) the cache is
//     compacted with index_select, so they stop costing compute.
//   * Sampling draws one uniform per ORIGINAL row per step from a generator seeded with `seed`, so a row's
//     tokens depend only on (seed, row, prompt, model) — not on which other rows finished when; the same
//     seed reproduces the same completions. Tokens are sampled by inverse CDF: over the vocabulary in id
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
// needs at least one real token. Throws r1::Error for bad inputs or settings.
std::vector<GenerationResult> generate(const CausalLM& model, const at::Tensor& input_ids,
                                       const at::Tensor& attention_mask, const GenerationConfig& config);

// Prompts as id lists (left-padded internally with config.pad_id).
std::vector<GenerationResult> generate(const CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                                       const GenerationConfig& config);

// Picks the next token per row from fp32 logits [B, V]: greedy, or sampled with temperature/top-k/top-p
// using one uniform in [0, 1) per row (`uniforms` [B]). Exposed for tests.
at::Tensor select_tokens(const at::Tensor& logits, const GenerationConfig& config, const at::Tensor& uniforms);

}  // namespace r1::model
