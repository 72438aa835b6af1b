// See sources.h.
#include "rl/grpo/sources.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/seed.h"
#include "rewards/registry.h"
#include "rl/run_rewards.h"

namespace r1::rl {
namespace {

// "stage:gen/chat_prompts.jsonl" → "chat_prompts".
std::string file_stem(const std::string& path) {
  const size_t slash = path.find_last_of("/:");
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = name.find('.');
  return dot != std::string::npos && dot > 0 ? name.substr(0, dot) : name;
}

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
  const json::Document list = json::parse(sources.text, where + ": sources");
  R1_CHECK(list.IsArray() && !list.Empty(), where, ": 'sources' must be a non-empty list of source objects");
  std::vector<GrpoSourceConfig> out;
  json::Document resolved(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    const std::string at = str_cat(where, ": sources[", i, "]");
    GrpoSourceConfig s = defaults;
    ConfigReader::read_struct(list[i], at, s);
    if (s.name.empty()) s.name = file_stem(s.data.path);
    const std::string named = str_cat(at, " (", s.name, ")");
    if (!s.reward.empty()) s.reward.text = normalized_reward_spec(s.reward.text, named + ": reward");
    s.validate(named);
    if (!s.data.chat_template.empty()) check_chat_template(s.data.chat_template, model, named + ": data");
    for (const auto& other : out) {
      R1_CHECK(other.name != s.name, named, ": two sources are named '", s.name, "' (set 'name' to tell them apart)");
    }
    json::Document one = ConfigWriter::to_document(s);
    resolved.PushBack(json::Value(one, resolved.GetAllocator()), resolved.GetAllocator());
    out.push_back(std::move(s));
  }
  check_every_step_has_a_source(out, steps, where);
  sources.text = json::dump(resolved);
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
