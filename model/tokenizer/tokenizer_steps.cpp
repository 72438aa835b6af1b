// See tokenizer_steps.h.
#include "model/tokenizer/tokenizer_steps.h"

namespace r1::model {

Pattern read_pattern(const json::Value& step, const std::string& where) {
  const json::Value& pattern = json::get(step, "pattern", where);
  Pattern out;
  if (const auto* lit = json::find(pattern, "String")) {
    R1_CHECK(lit->IsString(), where, ".pattern.String: expected a string");
    out.literal.assign(lit->GetString(), lit->GetStringLength());
    return out;
  }
  out.regex = std::make_unique<Regex>(json::get_string(pattern, "Regex", where + ".pattern"), where + ".pattern.Regex");
  return out;
}

void replace_matches(std::string& s, const Pattern& pattern, const std::string& content) {
  const std::vector<Span> matches = pattern.find_all(s);
  if (matches.empty()) return;
  std::string out;
  size_t prev = 0;
  for (const Span& m : matches) {
    out.append(s, prev, m.first - prev);
    out += content;
    prev = m.second;
  }
  out.append(s, prev, std::string::npos);
  s = std::move(out);
}

}  // namespace r1::model
