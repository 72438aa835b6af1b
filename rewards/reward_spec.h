// The reward-spec grammar, read in one place: a spec (the CLI's --reward, a recipe's "reward" key) parsed into
// a tree of rewards and composites, each node with the place it came from.
//
// Forms (registry.h shows them with examples):
//   "math"                                   one reward, default options
//   "math,format"                            equal-weight sum
//   JSON text of any form below              (a string that starts with '{' or '[')
//   ["math", {"name": "format", ...}]        a composite of the elements
//   {"name": N, "options": {...}, "weight": W, "label": L}
//   {"composite": [...], "weight": W, "label": L}
// and, on either object form, a schedule by trainer step (composite.h, PartSchedule):
//   "from_step": S, "to_step": E             the part counts over steps [S, E) only (either may be left out)
//   "weight_schedule": [[s0, w0], [s1, w1]]  its weight at step s: linear between points, constant outside
// Nothing is built and no option is read here: a node holds a reward's name with its options object as
// given, or a composite's parts. The registry builds rewards from the tree (Registry::make_from_json),
// validates it without building (Registry::validate), writes it back normalised (Registry::normalize), and
// callers look at the rewards it names (Registry::walk).
//
// The tree says what the builder does. A top-level object with a weight, a label or a schedule becomes a
// composite of that one part (its score is weight × the reward's, under the label), so a root node never
// carries any of them. Schedule errors (negative steps, to_step <= from_step, unsorted points) name the part.
// A string inside a composite is a whole spec of its own whose label is the string ("a,b" is a part labelled
// "a,b"); a part's label equal to its default (the name, or "composite") is dropped, since it changes nothing.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/json.h"
#include "rewards/composite.h"

namespace r1::rewards {

struct RewardSpecNode {
  std::string name;                   // the reward's registry name; empty for a composite
  json::Document options;             // a reward's options object as given (an empty object when none were)
  std::vector<RewardSpecNode> parts;  // a composite's parts, in order (never empty)
  double weight = 1.0;                // as a part of a composite
  std::optional<std::string> label;   // as a part of a composite; unset = default_label()
  PartSchedule schedule;              // as a part of a composite: when it counts, its weight by step
  std::string where;                  // "recipe.json: stages[1] (rl): reward.composite[1]"

  bool is_composite() const { return name.empty(); }
  std::string default_label() const { return is_composite() ? "composite" : name; }
};

// Parses spec text (a name, "a,b", or JSON text) or an already parsed spec (a string, an array or an
// object). Errors (empty names, unknown keys, wrong types, invalid JSON) name `where` and the part.
RewardSpecNode parse_reward_spec(const std::string& text, const std::string& where);
RewardSpecNode parse_reward_spec(const json::Value& spec, const std::string& where);

}  // namespace r1::rewards
