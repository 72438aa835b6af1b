// See sources.h.
#include "rl/grpo/sources.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/seed.h"
#include "rewards/registry.h"
#include "rl/source_list.h"

namespace r1::rl {
namespace {

// Errors when a step in [0, steps) has no active source (it would have no prompts).
void check_every_step_has_a_source(const std::vector<GrpoSourceConfig>& sources, int64_t steps,
                                   const std::string& where) {
  std::vector<std::pair<int64_t, int64_t>> ranges;  // [from, to) clipped to the stage
  for (const auto& s : sources) ranges.emplace_back(s.from_step, std::min(s.to_step.value_or(steps), steps));
  std::sort(ranges.begin(), ranges.end());
  int64_t covered = 0;  // every step before this one has a source
  for (const auto& [from, to] : ranges) {
    if (from > covered) break;
    covered = std::max(covered, to);
  }
  R1_CHECK(covered >= steps, where, ": sources: no source is active at step ", covered, " (steps count from 0; ",
           "the stage has ", steps, "): every step needs one — widen a source's from_step / to_step");
}

}  // namespace

void GrpoSourceConfig::validate(const std::string& where) const {
  data.validate(where);
  R1_CHECK(!reward.empty(), where, ": 'reward' is required: the spec that scores this source's rows (a rule "
           "reward such as \"math,format\" for reasoning prompts, a reward model for general ones; r1 reward list)");
  R1_CHECK(std::isfinite(weight) && weight > 0, where, ": weight must be a number > 0 (the source's share of a "
           "step's prompts is weight / the sum of the active sources' weights)");
  R1_CHECK(from_step >= 0, where, ": from_step must be >= 0 (steps count from 0)");
  R1_CHECK(!to_step || *to_step > from_step, where, ": to_step (", to_step.value_or(0), ") must be greater than "
           "from_step (", from_step, "): the source is active over [from_step, to_step)");
  check_format_reward_matches_prompt(data, reward, where);
}

std::vector<GrpoSourceConfig> resolve_grpo_sources(RawJson& sources, const GrpoSourceConfig& defaults,
                                                   const ModelSource& model, int64_t steps, const std::string& where) {
  std::vector<GrpoSourceConfig> out =
      resolve_source_list(sources, defaults, model, where, [](const GrpoSourceConfig&, const std::string&) {});
  check_every_step_has_a_source(out, steps, where);
  return out;
}

std::vector<int64_t> split_prompts(int64_t n, const std::vector<double>& weights, uint64_t seed) {
  double total = 0;
  size_t last = weights.size();  // the last source with a positive weight
  for (size_t i = 0; i < weights.size(); ++i) {
    R1_CHECK(weights[i] >= 0 && std::isfinite(weights[i]), "split_prompts: weight ", i, " is ", weights[i]);
    total += weights[i];
    if (weights[i] > 0) last = i;
  }
  std::vector<int64_t> counts(weights.size(), 0);
  if (n <= 0 || last == weights.size()) return counts;
  const double u = static_cast<double>(splitmix64(seed) >> 11) * 0x1.0p-53;  // [0, 1)
  double cumulative = 0;
  int64_t given = 0;  // floor(previous cumulative + u)
  for (size_t i = 0; i <= last; ++i) {
    if (weights[i] <= 0) continue;
    // The last share ends at n exactly, so rounding in the sum cannot lose or add a prompt.
    cumulative = i == last ? static_cast<double>(n) : cumulative + static_cast<double>(n) * weights[i] / total;
    const int64_t upto = std::min<int64_t>(n, static_cast<int64_t>(std::floor(cumulative + u)));
    counts[i] = std::max<int64_t>(0, upto - given);
    given += counts[i];
  }
  return counts;
}

}  // namespace r1::rl
