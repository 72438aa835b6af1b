// An example reward plugin: a shared library that r1 loads with dlopen (rewards/plugin_api.h).
//
// It defines two rewards to show both kinds of plugin state:
//   example_keyword      1 when the completion contains a keyword (option "keyword", or the row field
//                        "keyword"), else 0; counts its calls, so it declares itself not thread-safe
//                        and the host serialises it.
//   example_exact_match  1 when the text inside the last <answer>...</answer> equals the row's "answer"
//                        field exactly (after trimming); stateless and thread-safe.
// Build: it is the CMake target r1_example_reward_plugin (build-dir/rewards/example_reward_plugin.so);
// by hand: g++ -std=c++17 -shared -fPIC -O2 -I<repo> example_plugin.cpp -o example_reward_plugin.so
// Use:   r1 reward score --plugin example_reward_plugin.so --reward example_keyword --input in.jsonl
// It parses the row with RapidJSON (any JSON library, or none, would do: the ABI passes plain text).
#include <rapidjson/document.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>

#include "rewards/plugin_api.h"

namespace {

void set_error(char* error, size_t size, const char* message) { std::snprintf(error, size, "%s", message); }

std::string trim(std::string s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// ---- example_keyword ----
struct Keyword {
  std::string keyword;  // empty: read the row field "keyword"
  std::atomic<long> calls{0};
};

void* keyword_create(const char* options_json, char* error, size_t error_size) {
  rapidjson::Document options;
  options.Parse(options_json);
  if (options.HasParseError() || !options.IsObject()) {
    set_error(error, error_size, "options must be a JSON object");
    return nullptr;
  }
  auto* k = new Keyword();
  for (auto it = options.MemberBegin(); it != options.MemberEnd(); ++it) {
    if (std::strcmp(it->name.GetString(), "keyword") == 0 && it->value.IsString()) {
      k->keyword = it->value.GetString();
    } else {
      set_error(error, error_size, "unknown option (expected \"keyword\": string)");
      delete k;
      return nullptr;
    }
  }
  return k;
}

void keyword_destroy(void* instance) { delete static_cast<Keyword*>(instance); }

int keyword_score(void* instance, const r1_reward_sample* s, const r1_reward_host* host, r1_reward_output* out,
                  double* score, char* error, size_t error_size) {
  auto* k = static_cast<Keyword*>(instance);
  std::string keyword = k->keyword;
  if (keyword.empty()) {
    rapidjson::Document row;
    row.Parse(s->row_json, s->row_json_len);
    if (row.HasParseError() || !row.IsObject() || !row.HasMember("keyword") || !row["keyword"].IsString()) {
      set_error(error, error_size, "no option \"keyword\" and the row has no string field \"keyword\"");
      return 1;
    }
    keyword = row["keyword"].GetString();
  }
  std::string completion(s->completion, s->completion_len);
  bool hit = !keyword.empty() && completion.find(keyword) != std::string::npos;
  *score = hit ? 1.0 : 0.0;
  host->add_component(out, "calls", static_cast<double>(++k->calls));
  host->set_reason(out, hit ? "keyword found" : "keyword missing");
  return 0;
}

// ---- example_exact_match ----
void* exact_create(const char* options_json, char* error, size_t error_size) {
  rapidjson::Document options;
  options.Parse(options_json);
  if (options.HasParseError() || !options.IsObject() || options.MemberCount() != 0) {
    set_error(error, error_size, "example_exact_match takes no options");
    return nullptr;
  }
  static int instance_tag = 0;
  return &instance_tag;  // stateless
}

void exact_destroy(void*) {}

int exact_score(void*, const r1_reward_sample* s, const r1_reward_host* host, r1_reward_output* out, double* score,
                char* error, size_t error_size) {
  rapidjson::Document row;
  row.Parse(s->row_json, s->row_json_len);
  if (row.HasParseError() || !row.IsObject() || !row.HasMember("answer") || !row["answer"].IsString()) {
    set_error(error, error_size, "the row has no string field \"answer\"");
    return 1;
  }
  std::string completion(s->completion, s->completion_len);
  size_t open = completion.rfind("<answer>");
  size_t close = open == std::string::npos ? std::string::npos : completion.find("</answer>", open);
  std::string answer = close == std::string::npos ? std::string() : trim(completion.substr(open + 8, close - open - 8));
  bool match = !answer.empty() && answer == trim(row["answer"].GetString());
  *score = match ? 1.0 : 0.0;
  host->add_component(out, "has_answer", answer.empty() ? 0.0 : 1.0);
  host->set_reason(out, match ? "exact match" : "no exact match");
  return 0;
}

const r1_reward_def kRewards[] = {
    {"example_keyword", "1 when the completion contains the keyword (example plugin)",
     "keyword (string, row field \"keyword\"): text to look for", /*thread_safe=*/0, keyword_create,
     keyword_destroy, keyword_score},
    {"example_exact_match", "1 when <answer> equals the row's answer exactly (example plugin)", "(no options)",
     /*thread_safe=*/1, exact_create, exact_destroy, exact_score},
};

}  // namespace

R1_REWARD_PLUGIN(kRewards)
