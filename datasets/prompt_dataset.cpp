// See prompt_dataset.h.
#include "datasets/prompt_dataset.h"

#include <optional>
#include <sstream>

#include "common/error.h"
#include "datasets/prompt_stream.h"

namespace r1::data {
namespace {

using json::Document;
using json::Value;

void set_string(Document& doc, const char* key, const std::string& value) {
  json::set_member(doc, doc, key, Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), doc.GetAllocator()));
}

// A gold answer as text: strings as they are, integers without ".0", other numbers as the shortest
// round-tripping decimal.
std::string scalar_text(const Value& v, const std::string& where) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsNumber()) {
    std::ostringstream out;
    out.precision(17);
    out << v.GetDouble();
    return out.str();
  }
  fail(where, ": expected the answer to be a string or a number, got ", json::type_name(v));
}

std::string countdown_question(const std::vector<int64_t>& numbers, int64_t target) {
  std::string list;
  for (size_t i = 0; i < numbers.size(); ++i) list += (i ? ", " : "") + std::to_string(numbers[i]);
  return "Using the numbers [" + list + "], create an equation that equals " + std::to_string(target) +
         ". You can use basic arithmetic operations (+, -, *, /) and each number can only be used once.";
}

std::vector<int64_t> parse_int_list(const std::string& text, const std::string& where) {
  std::vector<int64_t> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      out.push_back(std::stoll(item, &used));
      R1_CHECK(item.find_first_not_of(" \t", used) == std::string::npos, where, ": '", item, "' is not an integer");
    } catch (const std::logic_error&) {
      fail(where, ": '", item, "' is not an integer");
    }
  }
  return out;
}

// Normalises one JSONL row in place according to the format; returns the question.
std::string normalise_row(const PromptDatasetSpec& spec, Document& doc, const std::string& where) {
  if (spec.format == "jsonl") {
    std::string key = spec.question_key;
    if (key.empty()) {
      for (const char* k : {"prompt", "question", "problem"}) {
        if (json::find(doc, k)) {
          key = k;
          break;
        }
      }
      R1_CHECK(!key.empty(), where, ": no question field (looked for prompt, question, problem; set question_key)");
    }
    std::string question = json::get_string(doc, key.c_str(), where);
    if (const Value* a = json::find(doc, spec.answer_key.c_str()); a && !a->IsNull()) {
      set_string(doc, "answer", scalar_text(*a, where + ": key '" + spec.answer_key + "'"));
    }
    return question;
  }
  if (spec.format == "gsm8k") {
    std::string question = json::get_string(doc, "question", where);
    std::string solution = json::get_string(doc, "answer", where);
    size_t mark = solution.rfind("####");
    R1_CHECK(mark != std::string::npos, where, ": GSM8K answer has no '####' line");
    std::string gold;
    for (char c : solution.substr(mark + 4)) {
      if (c != ',' && c != ' ' && c != '\n' && c != '\r' && c != '\t') gold += c;
    }
    R1_CHECK(!gold.empty(), where, ": GSM8K answer is empty after '####'");
    set_string(doc, "solution", solution);
    set_string(doc, "answer", gold);
    return question;
  }
  if (spec.format == "math") {
    std::string question = json::get_string(doc, "problem", where);
    set_string(doc, "answer", scalar_text(json::get(doc, "answer", where), where + ": key 'answer'"));
    return question;
  }
  if (spec.format == "countdown") {
    std::vector<int64_t> numbers;
    int64_t target = 0;
    if (json::find(doc, "nums")) {
      numbers = json::opt_int_list(doc, "nums", where);
      target = json::get_int(doc, "target", where);
    } else {
      numbers = parse_int_list(json::get_string(doc, "input", where), where + ": key 'input'");
      std::string out = json::get_string(doc, "output", where);
      auto parsed = parse_int_list(out, where + ": key 'output'");
      R1_CHECK(parsed.size() == 1, where, ": key 'output': expected one integer, got '", out, "'");
      target = parsed[0];
    }
    R1_CHECK(!numbers.empty(), where, ": countdown row has no numbers");
    Value list(rapidjson::kArrayType);
    for (int64_t n : numbers) list.PushBack(Value(n), doc.GetAllocator());
    json::set_member(doc, doc, "numbers", std::move(list));
    json::set_member(doc, doc, "target", Value(target));
    set_string(doc, "answer", std::to_string(target));
    return countdown_question(numbers, target);
  }
  fail(where, ": unknown dataset format '", spec.format, "' (expected jsonl, gsm8k, math, countdown or mgsm)");
}

void finish_row(const PromptDatasetSpec& spec, Document& doc, const std::string& question, const std::string& lang) {
  set_string(doc, "question", question);
  if (!lang.empty()) set_string(doc, "target_lang", lang);
}

}  // namespace

namespace detail {

std::string mgsm_file_language(const std::string& path) {
  auto slash = path.find_last_of('/');
  std::string name = path.substr(slash == std::string::npos ? 0 : slash + 1);
  if (name.rfind("mgsm_", 0) == 0 && name.size() >= 9) return name.substr(5, name.find('.') - 5);
  return "";
}

PromptExample parse_prompt_line(const PromptDatasetSpec& spec, const std::string& line, const std::string& where,
                                const std::string& mgsm_lang) {
  auto doc = std::make_shared<Document>();
  std::string question;
  if (spec.format == "mgsm") {
    const size_t tab = line.rfind('\t');
    R1_CHECK(tab != std::string::npos && tab != 0 && tab + 1 != line.size(), where,
             ": expected 'question<TAB>answer'");
    doc->SetObject();
    question = line.substr(0, tab);
    set_string(*doc, "answer", line.substr(tab + 1));
    finish_row(spec, *doc, question, mgsm_lang);
  } else {
    *doc = json::parse(line, where, /*allow_comments=*/false);
    R1_CHECK(doc->IsObject(), where, ": expected a JSON object, got ", json::type_name(*doc));
    question = normalise_row(spec, *doc, where);
    finish_row(spec, *doc, question, spec.target_lang);
  }
  return PromptExample{question, std::move(doc), where};
}

}  // namespace detail

PromptExample make_prompt_example(const std::string& question, json::Document row, const std::string& origin) {
  R1_CHECK(row.IsObject(), origin, ": a dataset row must be a JSON object");
  set_string(row, "question", question);
  PromptExample ex;
  ex.question = question;
  ex.row = std::make_shared<const json::Document>(std::move(row));
  ex.origin = origin;
  return ex;
}

// One reader of prompt files: the stream (datasets/prompt_stream.h), drained.
std::vector<PromptExample> load_prompt_dataset(const PromptDatasetSpec& spec) {
  std::vector<PromptExample> out;
  PromptStream stream(spec);
  while (std::optional<PromptExample> ex = stream.next()) out.push_back(std::move(*ex));
  return out;
}

}  // namespace r1::data
