// Helpers shared by the reward tests: build a reward from a spec and score one completion with a row
// given as JSON text.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "common/json.h"
#include "rewards/registry.h"

namespace r1::rewards::testing {

struct Scored {
  Score score;
  double component(const std::string& name) const {
    for (const auto& [n, v] : score.components)
      if (n == name) return v;
    ADD_FAILURE() << "no component '" << name << "'";
    return -1e300;
  }
};

inline Scored score_with(const RewardPtr& reward, const std::string& completion, const std::string& row_json = "{}",
                         const std::string& prompt = "", int64_t tokens = -1) {
  json::Document row = json::parse(row_json, "test row");
  Sample s;
  s.prompt = prompt;
  s.completion = completion;
  s.row = &row;
  s.completion_tokens = tokens;
  return Scored{reward->score(s)};
}

inline RewardPtr make(const std::string& spec) { return Registry::global().make_from_spec(spec, "test"); }

}  // namespace r1::rewards::testing
