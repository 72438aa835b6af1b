// GRPO's data parallelism on the rollout side (dist/world.h): each rank samples and scores its share of a
// source's prompts — whole groups, prompts [n·r/W, n·(r+1)/W) of the n drawn — and the ranks then exchange
// their completions and scores, so every rank holds the whole rollout, scored. Everything after that (dynamic
// sampling's choice of groups, advantages, metrics, samples) is computed identically on every rank from the
// same data; only the policy update splits the kept groups again (rl/grpo/update.h).
//
// Same samples at any world size: a rank's rows sample with the uniforms they would have in the whole rollout
// (GenerationConfig::window_rows), and the rollout's seed is the same on every rank — up to float noise: a rank
// computes its rows in batches of other shapes, whose logits differ in the last bits, so a token whose uniform
// falls within that noise of a boundary of the sampling distribution could differ (not seen in the tests).
// What travels: per completion its generated ids, their log-probs, the finish reason and the score (value,
// components, reason); the prompt ids and the decoded text are recomputed from them.
#pragma once

#include <functional>
#include <vector>

#include "dist/world.h"
#include "rl/rollout.h"

namespace r1::rl {

// Samples this rank's share of `prompts` (group_size completions each), scores it with `score` (called on the
// share only, not called when the share is empty), and returns the whole rollout with every rank's completions
// in prompt order. generate_s and reward_s are this rank's; generated_tokens counts every rank's.
Rollout generate_shared_rollout(const dist::World& world, const Policy& policy, const PromptRenderer& renderer,
                                const std::vector<const data::PromptExample*>& prompts, int64_t group_size,
                                const SamplingConfig& sampling, uint64_t seed,
                                const std::function<void(Rollout&)>& score);

// The bytes of completions (ids, log-probs, finish reason, score) and back; exposed for tests. `tok` rebuilds
// Completion::text; prompt_index and prompt_ids are left for the caller.
std::string encode_completions(const std::vector<Completion>& completions);
std::vector<Completion> decode_completions(const std::string& bytes, const model::Tokenizer& tok);

}  // namespace r1::rl
