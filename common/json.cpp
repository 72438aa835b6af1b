// See json.h.
#include "common/json.h"

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/error.h"
#include "common/fs.h"

namespace r1::json {
namespace {

// 1-based line and column of a byte offset.
std::pair<size_t, size_t> line_col(std::string_view text, size_t offset) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return {line, col};
}

[[noreturn]] void wrong_type(const std::string& where, const char* key, const char* expected, const Value& got) {
  fail(where, ": key '", key, "': expected ", expected, ", got ", type_name(got));
}

}  // namespace

Document parse(std::string_view text, const std::string& origin, bool allow_comments) {
  Document doc;
  // Iterative parsing: the recursive parser's stack depth grows with the nesting, so one JSONL line of a few
  // hundred thousand '[' overflowed the stack (found by tests/fuzz/preference_fuzz.cpp); this one keeps its
  // stack on the heap and accepts the same texts.
  constexpr unsigned kStrict =
      rapidjson::kParseFullPrecisionFlag | rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag;
  constexpr unsigned kLoose = kStrict | rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag;
  if (allow_comments) {
    doc.Parse<kLoose>(text.data(), text.size());
  } else {
    doc.Parse<kStrict>(text.data(), text.size());
  }
  if (doc.HasParseError()) {
    auto [line, col] = line_col(text, doc.GetErrorOffset());
    fail(origin, ":", line, ":", col, ": invalid JSON: ", rapidjson::GetParseError_En(doc.GetParseError()));
  }
  return doc;
}

Document parse_file(const std::string& path, bool allow_comments) {
  return parse(read_file(path), path, allow_comments);
}

std::string dump(const Value& v, bool pretty) {
  rapidjson::StringBuffer buf;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.SetIndent(' ', 2);
    v.Accept(w);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    v.Accept(w);
  }
  return std::string(buf.GetString(), buf.GetSize());
}

const char* type_name(const Value& v) {
  if (v.IsNull()) return "null";
  if (v.IsBool()) return "bool";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsArray()) return "array";
  return "object";
}

const Value* find(const Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

const Value& get(const Value& obj, const char* key, const std::string& where) {
  R1_CHECK(obj.IsObject(), where, ": expected an object, got ", type_name(obj));
  const Value* v = find(obj, key);
  R1_CHECK(v != nullptr, where, ": missing required key '", key, "'");
  return *v;
}

std::string get_string(const Value& obj, const char* key, const std::string& where) {
  const Value& v = get(obj, key, where);
  if (!v.IsString()) wrong_type(where, key, "a string", v);
  return std::string(v.GetString(), v.GetStringLength());
}

double get_double(const Value& obj, const char* key, const std::string& where) {
  const Value& v = get(obj, key, where);
  if (!v.IsNumber()) wrong_type(where, key, "a number", v);
  return v.GetDouble();
}

int64_t get_int(const Value& obj, const char* key, const std::string& where) {
  const Value& v = get(obj, key, where);
  if (v.IsInt64()) return v.GetInt64();
  if (v.IsDouble() && v.GetDouble() == static_cast<double>(static_cast<int64_t>(v.GetDouble()))) {
    return static_cast<int64_t>(v.GetDouble());
  }
  wrong_type(where, key, "an integer", v);
}

bool get_bool(const Value& obj, const char* key, const std::string& where) {
  const Value& v = get(obj, key, where);
  if (!v.IsBool()) wrong_type(where, key, "true or false", v);
  return v.GetBool();
}

namespace {

// The opt_* functions: nullopt when `key` is missing or null, else what `get` (a get_* function) reads.
template <class T>
std::optional<T> present(const Value& obj, const char* key, const std::string& where,
                         T (*get)(const Value&, const char*, const std::string&)) {
  const Value* v = find(obj, key);
  if (v == nullptr || v->IsNull()) return std::nullopt;
  return get(obj, key, where);
}

}  // namespace

std::optional<std::string> opt_string(const Value& obj, const char* key, const std::string& where) {
  return present(obj, key, where, get_string);
}

std::optional<double> opt_double(const Value& obj, const char* key, const std::string& where) {
  return present(obj, key, where, get_double);
}

std::optional<int64_t> opt_int(const Value& obj, const char* key, const std::string& where) {
  return present(obj, key, where, get_int);
}

std::optional<bool> opt_bool(const Value& obj, const char* key, const std::string& where) {
  return present(obj, key, where, get_bool);
}

std::vector<int64_t> opt_int_list(const Value& obj, const char* key, const std::string& where) {
  const Value* v = find(obj, key);
  if (v == nullptr || v->IsNull()) return {};
  if (v->IsInt64()) return {v->GetInt64()};
  if (!v->IsArray()) wrong_type(where, key, "an integer or a list of integers", *v);
  std::vector<int64_t> out;
  for (const auto& e : v->GetArray()) {
    if (!e.IsInt64()) wrong_type(where, key, "a list of integers", e);
    out.push_back(e.GetInt64());
  }
  return out;
}

void set_member(Document& doc, Value& obj, const std::string& key, Value value) {
  auto it = obj.FindMember(key.c_str());
  if (it != obj.MemberEnd()) {
    it->value = std::move(value);
    return;
  }
  Value name(key.c_str(), static_cast<rapidjson::SizeType>(key.size()), doc.GetAllocator());
  obj.AddMember(name, std::move(value), doc.GetAllocator());
}

}  // namespace r1::json
