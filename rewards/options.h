// Reading a reward's options and a sample's row fields with located errors.
//
// Options: every built-in reward has an options struct whose visit() lists each option once with its
// default and help (common/config_io.h), and a validate(where) for what types cannot say (ranges, values that
// depend on each other). read_reward_options<Options>() reads a reward's options object with ConfigReader
// (an unknown or misspelt option, "fallbak", is an error naming the reward and the option, not a silently
// ignored setting) and validates it; add_reward<Options>() registers a reward so that the same struct gives
// the registry its option list (`r1 reward list`, docs/rewards.md), its validation without building, and the
// normalised options of recipe.resolved.json; add_reward_of<Reward, Options>() is the short form for a reward built
// from its options alone.
//
// Row helpers do the same for dataset fields: a missing gold answer is an r1::Error naming the reward and
// the field, because it is a dataset problem, not a zero score.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config_io.h"
#include "common/json.h"
#include "rewards/registry.h"
#include "rewards/reward.h"

namespace r1::rewards {

// Reads and validates a reward's options. `options` is an object (or null: all defaults); `where` names the
// reward ("recipe.json: reward.composite[1]: reward 'math'"), so errors read
// "...: reward 'math': option 'fallback': expected true or false, got number".
template <class Options>
Options read_reward_options(const json::Value& options, const std::string& where) {
  Options out;
  if (!options.IsNull()) ConfigReader::read_struct(options, where, out, "option");
  out.validate(where);
  return out;
}

// The option lines of `r1 reward list`: "key (type, default): help".
std::string options_help_text(const std::vector<ConfigField>& fields);

// Registers a reward whose options are an Options struct: `info.options` and `info.options_help` come from
// it, and `build` gets the options read and validated.
template <class Options>
void add_reward(Registry& registry, RewardInfo info,
                std::function<RewardPtr(const Options& options, const std::string& where)> build) {
  info.options = ConfigLister::list(Options{});
  info.options_help = options_help_text(info.options);
  registry.add(
      std::move(info),
      [build](const json::Value& options, const std::string& where) {
        return build(read_reward_options<Options>(options, where), where);
      },
      [](const json::Value& options, const std::string& where) {
        return ConfigWriter::to_document(read_reward_options<Options>(options, where));
      });
}

// The common case of add_reward: a reward built from its options alone, as `RewardT(options)`.
template <class RewardT, class Options>
void add_reward_of(Registry& registry, std::string name, std::string description) {
  RewardInfo info;
  info.name = std::move(name);
  info.description = std::move(description);
  add_reward<Options>(registry, std::move(info), [](const Options& options, const std::string&) -> RewardPtr {
    return std::make_shared<RewardT>(options);
  });
}

// Row fields. `reward` names the reward for error messages.
const json::Value* row_field(const Sample& sample, const std::string& key);
// A required field as text: strings as they are, numbers as written in JSON ("27.0", "72").
std::string row_text(const Sample& sample, const std::string& key, const char* reward);
std::optional<std::string> row_text_opt(const Sample& sample, const std::string& key, const char* reward);

// Text of a JSON scalar (string as is, number as JSON text, bool as true/false); nullopt otherwise.
std::optional<std::string> scalar_text(const json::Value& v);

}  // namespace r1::rewards
