// See json.h.
#include "common/json.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>

#include <rapidjson/error/en.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
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

namespace {

// The SAX events of the reader, forwarded to a Document, except numbers: the reader hands them over as text
// (kParseNumbersAsStringsFlag) and they are converted here. rapidjson 1.1's own conversion reads far out of
// bounds on some long mantissas with large negative exponents ("8888888888888888833.3...E-381", found by
// tests/fuzz/preference_fuzz.cpp) and on exponents such as 1e-700; strtod is exact and bounded. Integers that fit
// int64 / uint64 stay integers, others become doubles, as rapidjson does; a number too big for a double (1e400)
// is an error, as in rapidjson.
struct NumberConvertingHandler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, NumberConvertingHandler> {
  Document& doc;
  std::string error;  // set when a number cannot be stored

  explicit NumberConvertingHandler(Document& d) : doc(d) {}
  bool Null() { return doc.Null(); }
  bool Bool(bool b) { return doc.Bool(b); }
  bool Int(int i) { return doc.Int(i); }
  bool Uint(unsigned i) { return doc.Uint(i); }
  bool Int64(int64_t i) { return doc.Int64(i); }
  bool Uint64(uint64_t i) { return doc.Uint64(i); }
  bool Double(double d) { return doc.Double(d); }
  bool String(const char* str, rapidjson::SizeType length, bool copy) { return doc.String(str, length, copy); }
  bool StartObject() { return doc.StartObject(); }
  bool Key(const char* str, rapidjson::SizeType length, bool copy) { return doc.Key(str, length, copy); }
  bool EndObject(rapidjson::SizeType members) { return doc.EndObject(members); }
  bool StartArray() { return doc.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) { return doc.EndArray(elements); }

  bool RawNumber(const char* str, rapidjson::SizeType length, bool /*copy*/) {
    const std::string text(str, length);
    if (text == "NaN" || text == "-NaN") return doc.Double(std::numeric_limits<double>::quiet_NaN());
    if (text == "Infinity" || text == "-Infinity") {
      return doc.Double(text[0] == '-' ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
    }
    if (text.find_first_of(".eE") == std::string::npos) {
      errno = 0;
      char* end = nullptr;
      if (text[0] == '-') {
        const long long v = std::strtoll(text.c_str(), &end, 10);
        if (errno == 0 && *end == '\0') return doc.Int64(v);
      } else {
        const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
        if (errno == 0 && *end == '\0') return doc.Uint64(v);
      }
    }
    errno = 0;
    const double d = std::strtod(text.c_str(), nullptr);
    if (errno == ERANGE && std::isinf(d)) {
      error = "number too big to be stored in a double: " + text.substr(0, 40) + (text.size() > 40 ? "..." : "");
      return false;
    }
    return doc.Double(d);
  }
};

template <unsigned kFlags>
rapidjson::ParseResult parse_into(Document& doc, std::string_view text, std::string& error) {
  rapidjson::ParseResult result;
  auto generate = [&](Document& d) {
    NumberConvertingHandler handler(d);
    rapidjson::Reader reader;
    rapidjson::MemoryStream bytes(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(bytes);  // skips a UTF-8 BOM
    result = reader.Parse<kFlags | rapidjson::kParseNumbersAsStringsFlag>(stream, handler);
    error = handler.error;
    return !result.IsError();
  };
  doc.Populate(generate);
  return result;
}

}  // namespace

Document parse(std::string_view text, const std::string& origin, bool allow_comments) {
  Document doc;
  // Iterative parsing: the recursive parser's stack depth grows with the nesting, so one JSONL line of a few
  // hundred thousand '[' overflowed the stack (found by tests/fuzz/preference_fuzz.cpp); this one keeps its
  // stack on the heap and accepts the same texts. Numbers: see NumberConvertingHandler.
  constexpr unsigned kStrict = rapidjson::kParseNanAndInfFlag | rapidjson::kParseIterativeFlag;
  constexpr unsigned kLoose = kStrict | rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag;
  std::string number_error;
  const rapidjson::ParseResult result = allow_comments ? parse_into<kLoose>(doc, text, number_error)
                                                       : parse_into<kStrict>(doc, text, number_error);
  if (result.IsError()) {
    auto [line, col] = line_col(text, result.Offset());
    fail(origin, ":", line, ":", col, ": invalid JSON: ",
         number_error.empty() ? rapidjson::GetParseError_En(result.Code()) : number_error.c_str());
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
