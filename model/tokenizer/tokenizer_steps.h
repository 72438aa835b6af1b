// Pieces of tokenizer.json that the normalizer, pre-tokenizer and decoder readers share: a step's
// `pattern` ({"String": literal} or {"Regex": Oniguruma pattern}, used by Replace and Split), the
// replacement of every match (the Replace normalizer and the Replace decoder), and the parts of a
// Sequence step.
//
// What it is not: a step itself. Each reader keeps its own classes; these are the parts whose logic is
// the same for all three.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "model/tokenizer/tokenizer_regex.h"

namespace r1::model {

// A literal or a regex; `regex` is set for {"Regex": ...}.
struct Pattern {
  std::string literal;
  std::unique_ptr<Regex> regex;

  // Non-overlapping matches, left to right.
  std::vector<Span> find_all(std::string_view s) const { return regex ? regex->find_all(s) : find_literal(s, literal); }
};

// Reads step["pattern"]; `where` names the step ("tokenizer.json: normalizer.normalizers[1]").
Pattern read_pattern(const json::Value& step, const std::string& where);

// Every match of `pattern` in `s` replaced by `content`.
void replace_matches(std::string& s, const Pattern& pattern, const std::string& content);

// The parts of a Sequence step, step[key] made one by one by `make(value, where)`; parts that make nothing
// (null) are dropped.
template <class Part, class Make>
std::vector<std::unique_ptr<Part>> read_sequence(const json::Value& step, const char* key, const std::string& where,
                                                 Make make) {
  const json::Value& list = json::get(step, key, where);
  R1_CHECK(list.IsArray(), where, ".", key, ": expected an array, got ", json::type_name(list));
  std::vector<std::unique_ptr<Part>> parts;
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    std::unique_ptr<Part> part = make(list[i], str_cat(where, ".", key, "[", i, "]"));
    if (part) parts.push_back(std::move(part));
  }
  return parts;
}

}  // namespace r1::model
