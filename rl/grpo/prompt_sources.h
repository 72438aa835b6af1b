// A grpo stage's prompt sources at run time (sources.h has their config): each source's rows, renderer,
// reward, its own shuffled data order and its position in it; which source gives how many of a step's
// prompts; and the positions in the trainer state, so that a resumed run draws exactly what an uninterrupted
// one would.
//
// Data orders: the single-source form keeps the order of the stage seed (a run from before `sources` existed
// draws the same prompts); a named source's order comes from (stage seed, its name), so adding, removing or
// reordering other sources does not change it. Positions: the single-source form keeps its position in
// TrainerState::data_position (older checkpoints resume as before); named sources keep theirs in the state's
// extras ({"source_positions": {name: position}}), data_position then counting every source's prompts.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "datasets/sampler.h"
#include "rewards/reward.h"
#include "rl/grpo/config.h"
#include "rl/rollout.h"
#include "rl/trainer.h"

namespace r1::rl {

struct PromptSource {
  GrpoSourceConfig config;                  // name empty in the single-source form
  std::vector<data::PromptExample> examples;
  std::unique_ptr<PromptRenderer> renderer;
  data::ShuffledOrder order{0, 0};
  rewards::RewardPtr reward;
  int64_t position = 0;                     // the next position in `order`

  const std::string& name() const { return config.name; }
  // Draws the next row (advances the position); returns its index in `examples`.
  size_t draw() { return order.at(static_cast<uint64_t>(position++)); }
};

// Loads every source of the config (c.parsed_sources): rows, renderer for the policy's tokenizer, reward.
std::vector<PromptSource> load_prompt_sources(const GrpoConfig& c, const Policy& policy, const StageContext& ctx);

// How many prompts each source gives for `n` more groups at `step` (0-based): split_prompts() over the weights
// of the sources active at the step, from `seed`. The single-source form gives all n to its source.
std::vector<int64_t> prompts_per_source(const std::vector<PromptSource>& sources, int64_t n, int64_t step,
                                        uint64_t seed);

// Sets the sources' positions from a resumed session's trainer state (nothing for a fresh start). Errors when
// the checkpoint was written for other sources (renamed, added, removed).
void restore_positions(std::vector<PromptSource>& sources, const TrainingSession& s);

// Writes the positions into the trainer state (data_position, and the extras with GRPO's ref_reset_step).
void store_positions(const std::vector<PromptSource>& sources, int64_t ref_reset_step, TrainerState& state);

// The batches.jsonl line of the step just completed: {"step", "prompts": [rows]} in the single-source form,
// {"step", "prompts_by_source": {name: [rows]}} with named sources. `drawn`: (source, row) in draw order.
void log_step_prompts(TrainingSession& s, const std::vector<PromptSource>& sources,
                      const std::vector<std::pair<size_t, size_t>>& drawn);

}  // namespace r1::rl
