// The reward registry: builds rewards by name with JSON options, and composites from a spec.
//
// Spec forms accepted by make_from_spec (the CLI's --reward and a recipe's "reward" key):
//   "math"                                  one reward with default options
//   "math,format"                           equal-weight sum of several
//   {"name": "math", "options": {...}}      one reward with options
//   {"composite": [{"name": "math", "weight": 1.0, "options": {...}}, {"name": "format", "weight": 0.5}]}
// A composite's score is the weighted sum; its components list every child's unweighted score (and the
// child's own components, prefixed "child/") so that all parts are logged.
//
// Built-in rewards are registered by register_builtin_rewards() (builtin.cpp), called the first time
// global() is used; plugins and other libraries (e.g. rl/ for the reward-model reward) call add().
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/json.h"
#include "rewards/reward.h"

namespace r1::rewards {

struct RewardInfo {
  std::string name;
  std::string description;   // one line
  std::string options_help;  // every option with its default, e.g. "fallback_last_number (bool, false): ..."
};

// Builds a reward from its options object (an empty object when none were given). `where` names the
// origin for errors ("recipe.json: reward.composite[1].options").
using RewardFactory = std::function<RewardPtr(const json::Value& options, const std::string& where)>;

class Registry {
 public:
  // The process-wide registry, with the built-in rewards registered.
  static Registry& global();

  // Adds a reward; throws r1::Error if the name is taken.
  void add(RewardInfo info, RewardFactory factory);
  bool contains(const std::string& name) const;
  std::vector<RewardInfo> list() const;  // sorted by name

  RewardPtr make(const std::string& name, const json::Value& options, const std::string& where) const;
  // A spec string: a name, "a,b,c", or JSON text (see the file comment).
  RewardPtr make_from_spec(const std::string& spec, const std::string& where = "--reward") const;
  // A spec already parsed from a recipe: a string or an object.
  RewardPtr make_from_json(const json::Value& spec, const std::string& where) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::pair<RewardInfo, RewardFactory>> entries_;
};

// Registers every built-in reward (defined in builtin.cpp).
void register_builtin_rewards(Registry& registry);

}  // namespace r1::rewards
