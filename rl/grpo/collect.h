// Phase 1 of a GRPO step: collect the step's groups. Splits prompts_per_step over the prompt sources active
// at the step (prompt_sources.h: by weight, seeded by the round), takes each source's prompts in its own
// deterministic data order, samples group_size completions for each (one batched generate call per source
// and round: each source renders with its own template and stops at its own end-of-turn token) and scores
// each source's completions with that source's reward only, on a thread pool, telling the reward the step
// (rewards::Sample::step, which reward-term schedules read). A reward error names the stage and the source.
//
// Without dynamic sampling the scores are not needed until the advantages, so scoring runs on its own
// thread (StepGroups::pending_scores) while the trainer computes the old / reference log-probs; the
// trainer calls wait_for_scores() before anything reads a score. With DAPO dynamic sampling each round is
// scored at once, groups whose G rewards are all equal are dropped, and another round samples fresh prompts
// for the missing groups (split over the sources as at the start of the step, with the round's seed), up to
// max_sampling_rounds rounds; a step may end with fewer groups (or none).
//
// Data parallelism (several ranks): each source's prompts of a round are sampled and scored in shares, one per
// rank, and exchanged (rl/grpo/rollout_share.h), so every rank holds the same scored groups; scoring then
// happens at once, not on a thread beside the log-prob passes.
//
// Seeds: round r of step s has the seed R = mix_seed(mix_seed(stage seed, s), r) (common/seed.h); the single
// `data` source samples with R, named source i with mix_seed(R, 1 + i), and the split over the sources uses
// mix_seed(R, 0) — so a resumed run regenerates exactly what an uninterrupted one would.
#pragma once

#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/thread_pool.h"
#include "datasets/sampler.h"
#include "dist/world.h"
#include "rewards/reward.h"
#include "rl/grpo/config.h"
#include "rl/grpo/prompt_sources.h"
#include "rl/rollout.h"

namespace r1::rl {

// What collect_groups needs besides the config.
struct CollectInputs {
  const dist::World& world;            // the job: each rank samples and scores a share (rollout_share.h)
  const Policy& policy;
  std::vector<PromptSource>& sources;  // their positions advance by every prompt drawn
  ThreadPool& pool;
  std::string where;                   // the stage, for errors ("recipe.json: stages[2] (rl)")
};

struct StepGroups {
  std::vector<std::unique_ptr<Rollout>> rollouts;  // every round's rollouts (they own the completions)
  std::vector<size_t> rollout_source;              // per rollout: its source (index into the sources)
  std::vector<const Completion*> kept;             // group-major: G consecutive completions per kept group
  std::vector<size_t> kept_source;                 // per kept group: its source
  std::vector<std::pair<size_t, size_t>> drawn;    // (source, dataset row) of every prompt drawn, in draw order
  int64_t group_size = 1;
  int64_t groups_kept = 0, groups_seen = 0, groups_zero_var = 0;
  int64_t sampled_tokens = 0;
  double generate_s = 0, reward_s = 0;
  std::future<void> pending_scores;                // set while scoring runs concurrently

  // Waits for concurrent scoring (if any), then counts the zero-variance groups among the kept ones. Every
  // read of a score must come after this.
  void wait_for_scores();
  // The rollout a completion belongs to (its prompt text and dataset row).
  const Rollout& owner(const Completion& c) const;
};

// Collects the groups of step `step` (0-based); advances the sources' positions by every prompt drawn.
StepGroups collect_groups(const GrpoConfig& c, const CollectInputs& in, int64_t step, uint64_t step_seed);

}  // namespace r1::rl
