// Reading a reward's JSON options and a sample's row fields with located errors.
//
// OptionReader takes the options object given to a reward factory, hands out typed values with their
// defaults, remembers which keys were read, and finish() rejects every key that was not (a misspelt
// "fallbak" is an error naming the reward, not a silently ignored setting). Row helpers do the same for
// dataset fields: a missing gold answer is an r1::Error naming the reward and the field, because it is
// a dataset problem, not a zero score.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/json.h"
#include "rewards/reward.h"

namespace r1::rewards {

class OptionReader {
 public:
  // `options` may be null, or a JSON null/empty object. `where` prefixes errors ("reward 'math' options").
  OptionReader(const json::Value* options, std::string where);

  std::string str(const char* key, const std::string& fallback);
  std::string choice(const char* key, const std::string& fallback, std::initializer_list<const char*> allowed);
  double number(const char* key, double fallback);
  int64_t integer(const char* key, int64_t fallback);
  bool flag(const char* key, bool fallback);
  std::vector<std::string> strings(const char* key, const std::vector<std::string>& fallback);  // string or array
  // An object or any other value, unparsed (nullptr when absent); the key counts as read.
  const json::Value* raw(const char* key);

  // Throws r1::Error for keys that were never read.
  void finish() const;
  const std::string& where() const { return where_; }

 private:
  const json::Value* find(const char* key);
  const json::Value* options_;
  std::string where_;
  std::set<std::string> read_;
};

// Row fields. `reward` names the reward for error messages.
const json::Value* row_field(const Sample& sample, const std::string& key);
// A required field as text: strings as they are, numbers as written in JSON ("27.0", "72").
std::string row_text(const Sample& sample, const std::string& key, const char* reward);
std::optional<std::string> row_text_opt(const Sample& sample, const std::string& key, const char* reward);

// Text of a JSON scalar (string as is, number as JSON text, bool as true/false); nullopt otherwise.
std::optional<std::string> scalar_text(const json::Value& v);

}  // namespace r1::rewards
