// See collect.h.
#include "rl/grpo/collect.h"

#include "common/error.h"
#include "common/interrupt.h"
#include "common/seed.h"
#include "rl/grpo/rollout_share.h"

namespace r1::rl {
namespace {

bool all_rewards_equal(const Completion* first, int64_t group_size) {
  for (int64_t k = 1; k < group_size; ++k) {
    if (first[k].score.value != first[0].score.value) return false;
  }
  return true;
}

// Dynamic sampling: keeps the groups of a scored round that have different rewards, up to the step's need.
void keep_varied_groups(const GrpoConfig& c, const Rollout& r, size_t source, StepGroups& out) {
  for (size_t g = 0; g < r.prompts.size() && out.groups_kept < c.prompts_per_step; ++g) {
    ++out.groups_seen;
    const Completion* first = &r.completions[g * static_cast<size_t>(c.group_size)];
    if (all_rewards_equal(first, c.group_size)) {
      ++out.groups_zero_var;
      continue;
    }
    for (int64_t k = 0; k < c.group_size; ++k) out.kept.push_back(first + k);
    out.kept_source.push_back(source);
    ++out.groups_kept;
  }
}

// Scores a rollout with its source's reward (and no other) at `step`. A reward error (e.g. `math` on a row
// without a gold answer) is not a zero score: it stops the stage, naming the stage and the source.
void score_for_source(Rollout& r, const PromptSource& src, ThreadPool* pool, int64_t step, const std::string& where) {
  try {
    score_rollout(r, *src.reward, pool, step);
  } catch (const Interrupted&) {
    throw;
  } catch (const Error& e) {
    if (src.name().empty()) fail(where, ": reward: ", e.what());
    fail(where, ": source '", src.name(), "': its reward failed on one of its rows at step ", step, ": ", e.what());
  }
}

// Draws n prompts from source i and samples group_size completions for each (a new rollout of the step). With
// several ranks each samples and scores its share and the rollout comes back whole and scored.
void sample_source(const GrpoConfig& c, const CollectInputs& in, size_t i, int64_t n, uint64_t seed, int64_t step,
                   StepGroups& out) {
  PromptSource& src = in.sources[i];
  std::vector<const data::PromptExample*> prompts;
  for (int64_t k = 0; k < n; ++k) {
    const size_t row = src.draw();
    out.drawn.emplace_back(i, row);
    prompts.push_back(&src.examples[row]);
  }
  if (in.world.size() > 1) {
    auto score = [&](Rollout& r) { score_for_source(r, src, &in.pool, step, in.where); };
    out.rollouts.push_back(std::make_unique<Rollout>(generate_shared_rollout(
        in.world, in.policy, *src.renderer, prompts, c.group_size, c.sampling, seed, score)));
  } else {
    out.rollouts.push_back(std::make_unique<Rollout>(
        generate_rollout(in.policy, *src.renderer, prompts, c.group_size, c.sampling, seed)));
  }
  out.rollout_source.push_back(i);
  out.generate_s += out.rollouts.back()->generate_s;
  out.sampled_tokens += out.rollouts.back()->generated_tokens;
}

// Without dynamic sampling: every group of the round is kept, and the round is scored on its own thread
// while the trainer computes the log-probs.
void keep_all_and_score_later(const CollectInputs& in, size_t first_rollout, int64_t step, StepGroups& out) {
  std::vector<std::pair<Rollout*, const PromptSource*>> jobs;
  for (size_t j = first_rollout; j < out.rollouts.size(); ++j) {
    Rollout* r = out.rollouts[j].get();
    jobs.emplace_back(r, &in.sources[out.rollout_source[j]]);
    for (const auto& comp : r->completions) out.kept.push_back(&comp);
    out.kept_source.insert(out.kept_source.end(), r->prompts.size(), out.rollout_source[j]);
    out.groups_kept += static_cast<int64_t>(r->prompts.size());
    out.groups_seen += static_cast<int64_t>(r->prompts.size());
  }
  if (in.world.size() > 1) {  // scored while sampled (sample_source)
    for (size_t j = first_rollout; j < out.rollouts.size(); ++j) out.reward_s += out.rollouts[j]->reward_s;
    for (int64_t g = 0; g < out.groups_kept; ++g) {
      out.groups_zero_var += all_rewards_equal(out.kept[g * out.group_size], out.group_size);
    }
    return;
  }
  ThreadPool* pool = &in.pool;
  out.pending_scores = std::async(std::launch::async, [jobs, pool, step, where = in.where] {
    for (const auto& [r, src] : jobs) score_for_source(*r, *src, pool, step, where);
  });
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

StepGroups collect_groups(const GrpoConfig& c, const CollectInputs& in, int64_t step, uint64_t step_seed) {
  StepGroups out;
  out.group_size = c.group_size;
  const bool single = !c.named_sources();
  const int64_t rounds = c.dapo.dynamic_sampling ? c.dapo.max_sampling_rounds : 1;
  for (int64_t round = 0; round < rounds && out.groups_kept < c.prompts_per_step; ++round) {
    const uint64_t round_seed = mix_seed(step_seed, static_cast<uint64_t>(round));
    const std::vector<int64_t> counts =
        prompts_per_source(in.sources, c.prompts_per_step - out.groups_kept, step, mix_seed(round_seed, 0));
    const size_t first_rollout = out.rollouts.size();
    for (size_t i = 0; i < in.sources.size(); ++i) {
      if (counts[i] > 0) {
        sample_source(c, in, i, counts[i], single ? round_seed : mix_seed(round_seed, 1 + i), step, out);
      }
    }
    if (!c.dapo.dynamic_sampling) {
      keep_all_and_score_later(in, first_rollout, step, out);
      continue;
    }
    for (size_t j = first_rollout; j < out.rollouts.size(); ++j) {
      const size_t source = out.rollout_source[j];
      if (in.world.size() == 1) score_for_source(*out.rollouts[j], in.sources[source], &in.pool, step, in.where);
      out.reward_s += out.rollouts[j]->reward_s;
      keep_varied_groups(c, *out.rollouts[j], source, out);
    }
  }
  return out;
}

}  // namespace r1::rl
