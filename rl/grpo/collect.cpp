// See collect.h.
#include "rl/grpo/collect.h"

#include "common/error.h"
#include "common/seed.h"

namespace r1::rl {
namespace {

bool all_rewards_equal(const Completion* first, int64_t group_size) {
  for (int64_t k = 1; k < group_size; ++k) {
    if (first[k].score.value != first[0].score.value) return false;
  }
  return true;
}

// Dynamic sampling: keeps the groups of a scored round that have different rewards, up to the step's need.
void keep_varied_groups(const GrpoConfig& c, const Rollout& r, StepGroups& out) {
  for (size_t g = 0; g < r.prompts.size() && out.groups_kept < c.prompts_per_step; ++g) {
    ++out.groups_seen;
    const Completion* first = &r.completions[g * static_cast<size_t>(c.group_size)];
    if (all_rewards_equal(first, c.group_size)) {
      ++out.groups_zero_var;
      continue;
    }
    for (int64_t k = 0; k < c.group_size; ++k) out.kept.push_back(first + k);
    ++out.groups_kept;
  }
}

}  // namespace

void StepGroups::wait_for_scores() {
  if (!pending_scores.valid()) return;
  pending_scores.get();
  for (const auto& r : rollouts) reward_s += r->reward_s;
  for (int64_t g = 0; g < groups_kept; ++g) groups_zero_var += all_rewards_equal(kept[g * group_size], group_size);
}

const Rollout& StepGroups::owner(const Completion& c) const {
  for (const auto& r : rollouts) {
    if (&c >= r->completions.data() && &c < r->completions.data() + r->completions.size()) return *r;
  }
  fail("GRPO: a completion belongs to no rollout of the step (internal error)");
}

StepGroups collect_groups(const GrpoConfig& c, const CollectInputs& in, int64_t& data_position, uint64_t step_seed) {
  StepGroups out;
  out.group_size = c.group_size;
  const int64_t rounds = c.dapo.dynamic_sampling ? c.dapo.max_sampling_rounds : 1;
  for (int64_t round = 0; round < rounds && out.groups_kept < c.prompts_per_step; ++round) {
    std::vector<const data::PromptExample*> prompts;
    for (int64_t i = out.groups_kept; i < c.prompts_per_step; ++i) {
      const size_t idx = in.order.at(static_cast<uint64_t>(data_position++));
      out.data_indices.push_back(idx);
      prompts.push_back(&in.examples[idx]);
    }
    auto rollout = std::make_unique<Rollout>(generate_rollout(in.policy, in.renderer, prompts, c.group_size,
                                                              c.sampling, mix_seed(step_seed, static_cast<uint64_t>(round))));
    out.generate_s += rollout->generate_s;
    out.sampled_tokens += rollout->generated_tokens;
    Rollout* r = rollout.get();
    out.rollouts.push_back(std::move(rollout));
    if (!c.dapo.dynamic_sampling) {
      // Nothing needs the scores before the log-prob passes: score concurrently with them.
      const rewards::Reward* reward = &in.reward;
      ThreadPool* pool = &in.pool;
      out.pending_scores = std::async(std::launch::async, [r, reward, pool] { score_rollout(*r, *reward, pool); });
      for (const auto& comp : r->completions) out.kept.push_back(&comp);
      out.groups_kept = static_cast<int64_t>(prompts.size());
      out.groups_seen += out.groups_kept;
    } else {
      score_rollout(*r, in.reward, &in.pool);
      out.reward_s += r->reward_s;
      keep_varied_groups(c, *r, out);
    }
  }
  return out;
}

}  // namespace r1::rl
