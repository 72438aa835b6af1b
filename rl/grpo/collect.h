// Phase 1 of a GRPO step: collect the step's groups. Takes prompts_per_step prompts in the deterministic
// data order, samples group_size completions for each (one batched generate call per round) and scores
// them with the recipe's reward on a thread pool.
//
// Without dynamic sampling the scores are not needed until the advantages, so scoring runs on its own
// thread (StepGroups::pending_scores) while the trainer computes the old / reference log-probs; the
// trainer calls wait_for_scores() before anything reads a score. With DAPO dynamic sampling each round is
// scored at once, groups whose G rewards are all equal are dropped, and another round samples fresh prompts
// for the missing groups, up to max_sampling_rounds rounds; a step may end with fewer groups (or none).
//
// Seeds: round r of step s samples with mix_seed(mix_seed(stage seed, s), r) (common/seed.h), so a resumed
// run regenerates exactly what an uninterrupted one would.
#pragma once

#include <future>
#include <memory>
#include <vector>

#include "common/thread_pool.h"
#include "datasets/sampler.h"
#include "rewards/reward.h"
#include "rl/grpo/config.h"
#include "rl/rollout.h"

namespace r1::rl {

// What collect_groups needs besides the config.
struct CollectInputs {
  const Policy& policy;
  const PromptRenderer& renderer;
  const std::vector<data::PromptExample>& examples;
  data::ShuffledOrder& order;
  const rewards::Reward& reward;
  ThreadPool& pool;
};

struct StepGroups {
  std::vector<std::unique_ptr<Rollout>> rollouts;  // every round's rollout (they own the completions)
  std::vector<const Completion*> kept;             // group-major: G consecutive completions per kept group
  std::vector<size_t> data_indices;                // dataset rows drawn this step, in draw order
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

// Collects the groups of one step; advances data_position by every prompt drawn.
StepGroups collect_groups(const GrpoConfig& c, const CollectInputs& in, int64_t& data_position, uint64_t step_seed);

}  // namespace r1::rl
