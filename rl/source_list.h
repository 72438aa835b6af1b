// A stage's `sources` list, read once for every stage that has one (grpo's prompt sources, rejection
// sampling's sources). Each entry is read over the stage's `source_defaults` (its own keys override them), is
// named after its data file when it has no `name` ("stage:gen/math_train.jsonl" → "math_train"), gets its
// reward spec normalised and validated, its chat template checked against the model's tokenizer, and must be
// named unlike the others. The stage's own per-source rules run last (`check(source, named)`), and the list's
// JSON text is replaced by the resolved entries, so recipe.resolved.json shows every default.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/config_io.h"
#include "common/error.h"
#include "common/json.h"
#include "rl/policy.h"
#include "rl/run_rewards.h"

namespace r1::rl {

// The file name without folders, stage prefix or extensions: "stage:gen/math_train.jsonl" → "math_train".
inline std::string source_name_of(const std::string& path) {
  const size_t slash = path.find_last_of("/:");
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = name.find('.');
  return dot != std::string::npos && dot > 0 ? name.substr(0, dot) : name;
}

// Source needs: name, data.path, data.chat_template, reward (RawJson), validate(where) and visit().
template <class Source, class Check>
std::vector<Source> resolve_source_list(RawJson& sources, const Source& defaults, const ModelSource& model,
                                        const std::string& where, Check&& check) {
  const json::Document list = json::parse(sources.text, where + ": sources");
  R1_CHECK(list.IsArray() && !list.Empty(), where, ": 'sources' must be a non-empty list of source objects");
  std::vector<Source> out;
  json::Document resolved(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    const std::string at = str_cat(where, ": sources[", i, "]");
    Source s = defaults;
    ConfigReader::read_struct(list[i], at, s);
    if (s.name.empty()) s.name = source_name_of(s.data.path);
    const std::string named = str_cat(at, " (", s.name, ")");
    if (!s.reward.empty()) s.reward.text = normalized_reward_spec(s.reward.text, named + ": reward");
    s.validate(named);
    if (!s.data.chat_template.empty()) check_chat_template(s.data.chat_template, model, named + ": data");
    for (const auto& other : out) {
      R1_CHECK(other.name != s.name, named, ": two sources are named '", s.name, "' (set 'name' to tell them apart)");
    }
    check(s, named);
    json::Document one = ConfigWriter::to_document(s);
    resolved.PushBack(json::Value(one, resolved.GetAllocator()), resolved.GetAllocator());
    out.push_back(std::move(s));
  }
  sources.text = json::dump(resolved);
  return out;
}

}  // namespace r1::rl
