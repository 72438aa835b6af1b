// The prompt sources of a grpo stage (R1's all-scenario RL, issue 14): several prompt sets in one stage, each
// with its own reward spec, mixing weight and range of trainer steps — e.g. reasoning prompts judged by rule
// rewards for all 1,700 steps and general prompts judged by a reward model in the last 400 only.
//
// The recipe key `sources` is a list of objects, each read over `source_defaults` (the mechanism of the
// rejection_sampling stage): {"name", "data": {the keys of a grpo stage's data}, "weight", "reward",
// "from_step", "to_step"}. validate() writes the list back resolved, so recipe.resolved.json shows every key of
// every source with its reward in normal form. The older form, one `data` + one `reward`, is one unnamed source
// that draws at every step; giving both forms is an error.
//
// Steps are counted from 0 (a step's index is the number of steps completed before it; metrics.jsonl's
// "step" is index + 1). A source is active over [from_step, to_step). Each step's prompts_per_step are split
// over the sources active at that step by split_prompts() below.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config_io.h"
#include "rl/policy.h"
#include "rl/rollout.h"

namespace r1::rl {

struct GrpoSourceConfig {
  std::string name;
  PromptData data;
  double weight = 1.0;
  RawJson reward;
  int64_t from_step = 0;
  std::optional<int64_t> to_step;

  template <class V>
  void visit(V& v) {
    v("name", name,
      "the source's name in metrics (source/<name>/...), samples.jsonl, checkpoints and errors (default: the data "
      "file's name without extension)");
    v("data", data, "the source's prompts: the keys of a grpo stage's data");
    v("weight", weight,
      "mixing weight (> 0): a step's prompts are split over the sources active at that step in proportion to it");
    v("reward", reward, "reward spec that scores this source's rows (and only them); see r1 reward list");
    v("from_step", from_step, "the first trainer step (counted from 0) at which prompts are drawn from this source");
    v("to_step", to_step, "prompts are drawn from this source before this step only (null: until the end)");
  }
  bool active(int64_t step) const { return step >= from_step && (!to_step || step < *to_step); }
  void validate(const std::string& where) const;
};

// Reads `sources` (a non-empty list of objects, each over `defaults`): each reward in normal form, each source
// checked (its keys, its format reward against its own prompt template, its chat template against the model),
// the name defaulted; rewrites `sources` resolved and returns the sources in order. Errors name the source's
// place and name; also two sources with one name, and a step in [0, steps) at which no source is active.
std::vector<GrpoSourceConfig> resolve_grpo_sources(RawJson& sources, const GrpoSourceConfig& defaults,
                                                   const ModelSource& model, int64_t steps, const std::string& where);

// How many of `n` prompts each source gets, given the sources' weights at this step (0 for a source that is not
// active). Systematic rounding with a seeded offset: with shares q_i = n * w_i / sum(w), source i gets
// floor(C_i + u) - floor(C_{i-1} + u) where C_i = q_1 + ... + q_i and u in [0, 1) is drawn from `seed` — so each
// source gets floor(q_i) or ceil(q_i), the counts add up to n exactly, and on average (over seeds) each source
// gets exactly its share, even when n is smaller than the number of sources (largest-remainder rounding would
// give the same source the odd prompt at every step). A pure function of (n, weights, seed).
std::vector<int64_t> split_prompts(int64_t n, const std::vector<double>& weights, uint64_t seed);

}  // namespace r1::rl
