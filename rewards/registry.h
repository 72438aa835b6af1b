// The reward registry: builds rewards by name with JSON options, and composites from a spec.
//
// Spec forms accepted by make_from_spec (the CLI's --reward and a recipe's "reward" key; the grammar is read
// by reward_spec.h, the one parser of it):
//   "math"                                  one reward with default options
//   "math,format"                           equal-weight sum of several
//   {"name": "math", "options": {...}}      one reward with options
//   {"composite": [{"name": "math", "weight": 1.0, "options": {...}}, {"name": "format", "weight": 0.5}]}
//   ["math", {"name": "format", "weight": 0.5}]    the same as a composite
// A composite's score is the weighted sum; its components list every child's unweighted score (and the
// child's own components, prefixed "child/") so that all parts are logged. A part may count only over a range
// of trainer steps and have a weight schedule ("from_step", "to_step", "weight_schedule": composite.h).
//
// A built-in reward has an options struct with a visit() (common/config_io.h) and is registered with
// add_reward<Options>() (options.h): the struct's one list of fields gives the reading of options (unknown
// keys, wrong types and out-of-range values are errors naming the reward, the option and where the spec came
// from), `r1 reward list`, the tables of docs/rewards.md, and the normalised spec written to
// recipe.resolved.json. Rewards with free-form options (plugin libraries, rewards added by tests or by other
// libraries) are added with a plain factory: their options are passed through unread.
//
// Built-in rewards are registered by register_builtin_rewards() (builtin.cpp), called the first time
// global() is used; plugins and other libraries call add().
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/config_io.h"
#include "common/json.h"
#include "rewards/reward.h"

namespace r1::rewards {

struct RewardInfo {
  std::string name;
  std::string description;   // one line
  std::string options_help;  // one option per line, "key (type, default): help"; rendered from `options` when
                             // the reward has an options struct, else the free-form text given
  std::vector<ConfigField> options = {};  // the options struct's fields; empty for free-form options
};

// Builds a reward from its options object (an empty object when none were given). `where` names the
// origin for errors ("recipe.json: reward.composite[1]: reward 'math'").
using RewardFactory = std::function<RewardPtr(const json::Value& options, const std::string& where)>;
// Reads and validates a reward's options without building the reward, and returns them complete: every
// option, defaults filled in. Empty for free-form options (passed through unread).
using OptionsNormalizer = std::function<json::Document(const json::Value& options, const std::string& where)>;
// What Registry::walk shows of each reward in a spec: its name, its options as given, and where it is
// ("recipe.json: reward.composite[1]: reward 'format'", the same place the factory's errors name).
using SpecVisitor = std::function<void(const std::string& name, const json::Value& options, const std::string& where)>;

class Registry {
 public:
  // The process-wide registry, with the built-in rewards registered.
  static Registry& global();

  // Adds a reward; throws r1::Error if the name is taken. Without a normaliser the options are free-form.
  void add(RewardInfo info, RewardFactory factory, OptionsNormalizer normalize = nullptr);
  bool contains(const std::string& name) const;
  std::vector<RewardInfo> list() const;  // sorted by name

  RewardPtr make(const std::string& name, const json::Value& options, const std::string& where) const;
  // A spec string: a name, "a,b,c", or JSON text (see the file comment).
  RewardPtr make_from_spec(const std::string& spec, const std::string& where = "--reward") const;
  // A spec already parsed from a recipe: a string, an array or an object.
  RewardPtr make_from_json(const json::Value& spec, const std::string& where) const;

  // Calls visit for every reward of a spec, depth-first in spec order, without looking the names up.
  static void walk(const json::Value& spec, const std::string& where, const SpecVisitor& visit);
  // Checks a whole spec without building anything: the grammar, every name, and every reward's options
  // (unknown keys, types, ranges). No process is started, no library loaded, no model read.
  void validate(const json::Value& spec, const std::string& where) const;
  // The spec in normal form, validated as validate() does: {"name": N, "options": {every option}} for one
  // reward, {"composite": [parts]} otherwise, each part {"name", "weight", "label" (when given), "from_step",
  // "to_step", "weight_schedule" (each when given), "options"} or {"composite", "weight", "label", schedule
  // keys}. Building from it gives the same reward as building from `spec`, and normalising it again gives it
  // back unchanged.
  json::Document normalize(const json::Value& spec, const std::string& where) const;

 private:
  struct Entry {
    RewardInfo info;
    RewardFactory factory;
    OptionsNormalizer normalize;
  };
  // The entry of `name`, or an error naming `where` and listing the known rewards.
  const Entry& entry(const std::string& name, const std::string& where) const;

  mutable std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

// Registers every built-in reward (defined in builtin.cpp).
void register_builtin_rewards(Registry& registry);

// The options of every reward of the registry as markdown: per reward a heading, its description and a table
// of its options (name, type, default, meaning). `r1 reward list --markdown` prints it; docs/rewards.md holds
// it for the built-in rewards (a test compares the two).
std::string options_markdown(const Registry& registry);

}  // namespace r1::rewards
