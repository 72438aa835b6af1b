// One field list per config struct, used to read it from a recipe, write it back resolved, and print it.
//
// A config struct lists its fields once:
//   struct GrpoConfig {
//     double beta = 0.001;  int64_t group_size = 8;  ...
//     template <class V> void visit(V& v) {
//       v("beta", beta, "KL coefficient (R1: 0.001)");
//       v("group_size", group_size, "completions per prompt (G)");
//     }
//   };
// ConfigReader fills the struct from a JSON object: every key must be a field (an unknown key is an error
// naming the key, the path and the file, with the accepted keys listed), every value must have the field's
// type. Missing keys keep their defaults. ConfigWriter produces the resolved JSON (every field, defaults
// included) saved with each run. ConfigLister lists the fields with their types, defaults and help (what
// `r1 run --help-stage`, `r1 reward list` and the tables of docs/rewards.md show). Errors say "key 'x'" for
// recipe sections and "option 'x'" for reward options (the reader's noun). Supported field types: bool, int,
// int64_t, double, std::string, std::vector<std::string> (a single string is read as a one-element list),
// std::vector<int64_t>, RawJson (kept as JSON text: reward specs, model configs, a plugin's own options),
// nested structs with their own visit(), std::optional of any of these (JSON null or absent = unset: for
// keys whose meaning depends on other keys, so "not given" differs from every value), and enumerations
// written by name: an enum type E takes part when
// a function `const std::vector<std::pair<E, const char*>>& enum_names(E)` is declared beside it (found by
// argument-dependent lookup); an unknown name is an error listing the accepted ones.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/json.h"

namespace r1 {

// A JSON value kept verbatim (serialised text; empty = absent).
struct RawJson {
  std::string text;
  bool empty() const { return text.empty(); }
};

template <class T, class = void>
struct has_visit : std::false_type {};
template <class T>
struct has_visit<T, std::void_t<decltype(std::declval<T&>().visit(std::declval<int&>()))>> : std::true_type {};

template <class T, class = void>
struct has_enum_names : std::false_type {};
template <class T>
struct has_enum_names<T, std::void_t<decltype(enum_names(std::declval<T>()))>> : std::true_type {};

// The name of an enumerator (see has_enum_names); "?" for a value without one.
template <class E, std::enable_if_t<has_enum_names<E>::value, int> = 0>
const char* enum_name(E value) {
  for (const auto& [e, name] : enum_names(value)) {
    if (e == value) return name;
  }
  return "?";
}

// The enumerator called `name`, or an r1::Error naming `where` and listing the accepted names.
template <class E, std::enable_if_t<has_enum_names<E>::value, int> = 0>
E enum_from_name(const std::string& name, const std::string& where) {
  std::string accepted;
  for (const auto& [e, n] : enum_names(E{})) {
    if (name == n) return e;
    accepted += (accepted.empty() ? "" : " | ") + std::string(n);
  }
  fail(where, ": '", name, "' is not one of ", accepted);
}

class ConfigReader {
 public:
  // `where` names the origin and path for errors, e.g. "recipes/tiny.json: stages[1] (grpo)"; `noun` is what
  // errors call a key ("key" in recipes, "option" in reward options).
  ConfigReader(const json::Value& object, std::string where, const char* noun = "key")
      : object_(object), where_(std::move(where)), noun_(noun) {
    R1_CHECK(object.IsObject(), where_, ": expected an object, got ", json::type_name(object));
  }

  template <class T>
  void operator()(const char* key, T& field, const char* help = "") {
    (void)help;
    allowed_.insert(key);
    const json::Value* v = json::find(object_, key);
    if (v == nullptr) return;
    read(*v, field, where_ + ": " + noun_ + " '" + key + "'");
  }

  // Errors on keys that no field consumed (call after visit()), and on keys given twice (JSON allows it, but
  // only the first would be read: the second would be silently ignored).
  void finish() const {
    std::set<std::string> seen;
    for (auto it = object_.MemberBegin(); it != object_.MemberEnd(); ++it) {
      std::string key(it->name.GetString(), it->name.GetStringLength());
      R1_CHECK(seen.insert(key).second, where_, ": duplicate key '", key, "'");
      if (allowed_.count(key)) continue;
      std::string accepted;
      for (const auto& a : allowed_) accepted += (accepted.empty() ? "" : ", ") + a;
      fail(where_, ": unknown ", noun_, " '", key, "' (accepted: ", accepted, ")");
    }
  }

  // Reads a whole struct (visit + finish).
  template <class T>
  static void read_struct(const json::Value& object, const std::string& where, T& out, const char* noun = "key") {
    ConfigReader reader(object, where, noun);
    out.visit(reader);
    reader.finish();
  }

 private:
  void read(const json::Value& v, bool& out, const std::string& at) {
    R1_CHECK(v.IsBool(), at, ": expected true or false, got ", json::type_name(v));
    out = v.GetBool();
  }
  void read(const json::Value& v, int64_t& out, const std::string& at) {
    if (v.IsInt64()) {
      out = v.GetInt64();
      return;
    }
    R1_CHECK(v.IsDouble() && v.GetDouble() == static_cast<double>(static_cast<int64_t>(v.GetDouble())), at,
             ": expected an integer, got ", v.IsNumber() ? json::dump(v) : json::type_name(v));
    out = static_cast<int64_t>(v.GetDouble());
  }
  void read(const json::Value& v, int& out, const std::string& at) {
    int64_t wide = 0;
    read(v, wide, at);
    R1_CHECK(wide >= INT32_MIN && wide <= INT32_MAX, at, ": ", wide, " is out of range for a 32-bit integer");
    out = static_cast<int>(wide);
  }
  void read(const json::Value& v, double& out, const std::string& at) {
    R1_CHECK(v.IsNumber(), at, ": expected a number, got ", json::type_name(v));
    out = v.GetDouble();
  }
  void read(const json::Value& v, std::string& out, const std::string& at) {
    R1_CHECK(v.IsString(), at, ": expected a string, got ", json::type_name(v));
    out.assign(v.GetString(), v.GetStringLength());
  }
  void read(const json::Value& v, std::vector<std::string>& out, const std::string& at) {
    if (v.IsString()) {
      out = {std::string(v.GetString(), v.GetStringLength())};
      return;
    }
    R1_CHECK(v.IsArray(), at, ": expected a list of strings, got ", json::type_name(v));
    out.clear();
    for (const auto& e : v.GetArray()) {
      R1_CHECK(e.IsString(), at, ": expected a list of strings, found an element of type ", json::type_name(e));
      out.emplace_back(e.GetString(), e.GetStringLength());
    }
  }
  void read(const json::Value& v, std::vector<int64_t>& out, const std::string& at) {
    R1_CHECK(v.IsArray(), at, ": expected a list of integers, got ", json::type_name(v));
    out.clear();
    for (const auto& e : v.GetArray()) {
      R1_CHECK(e.IsInt64(), at, ": expected a list of integers, found ", json::dump(e));
      out.push_back(e.GetInt64());
    }
  }
  void read(const json::Value& v, RawJson& out, const std::string& at) {
    out.text = v.IsNull() ? std::string() : json::dump(v);
  }
  template <class T, std::enable_if_t<has_visit<T>::value, int> = 0>
  void read(const json::Value& v, T& out, const std::string& at) {
    read_struct(v, at, out, noun_);
  }
  template <class T>
  void read(const json::Value& v, std::optional<T>& out, const std::string& at) {
    if (v.IsNull()) {
      out.reset();
      return;
    }
    T value{};
    read(v, value, at);
    out = std::move(value);
  }
  template <class E, std::enable_if_t<has_enum_names<E>::value, int> = 0>
  void read(const json::Value& v, E& out, const std::string& at) {
    R1_CHECK(v.IsString(), at, ": expected a string, got ", json::type_name(v));
    out = enum_from_name<E>(std::string(v.GetString(), v.GetStringLength()), at);
  }

  const json::Value& object_;
  std::string where_;
  const char* noun_;
  std::set<std::string> allowed_;
};

class ConfigWriter {
 public:
  ConfigWriter(json::Document& doc, json::Value& object) : doc_(doc), object_(object) { object_.SetObject(); }

  template <class T>
  void operator()(const char* key, const T& field, const char* help = "") {
    (void)help;
    json::Value value = make(field);
    object_.AddMember(json::Value(key, doc_.GetAllocator()), value, doc_.GetAllocator());
  }

  template <class T>
  static json::Document to_document(const T& config) {
    json::Document doc;
    ConfigWriter writer(doc, doc);
    const_cast<T&>(config).visit(writer);
    return doc;
  }

 private:
  json::Value make(bool v) { return json::Value(v); }
  json::Value make(int v) { return json::Value(v); }
  json::Value make(int64_t v) { return json::Value(v); }
  json::Value make(double v) { return json::Value(v); }
  json::Value make(const std::string& v) { return json::Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), doc_.GetAllocator()); }
  json::Value make(const std::vector<std::string>& v) {
    json::Value a(rapidjson::kArrayType);
    for (const auto& s : v) a.PushBack(make(s), doc_.GetAllocator());
    return a;
  }
  json::Value make(const std::vector<int64_t>& v) {
    json::Value a(rapidjson::kArrayType);
    for (int64_t x : v) a.PushBack(json::Value(x), doc_.GetAllocator());
    return a;
  }
  json::Value make(const RawJson& v) {
    if (v.empty()) return json::Value(rapidjson::kNullType);
    json::Document parsed = json::parse(v.text, "(raw json)", false);
    json::Value out;
    out.CopyFrom(parsed, doc_.GetAllocator());
    return out;
  }
  template <class T>
  json::Value make(const std::optional<T>& v) {
    return v ? make(*v) : json::Value(rapidjson::kNullType);
  }
  template <class E, std::enable_if_t<has_enum_names<E>::value, int> = 0>
  json::Value make(E v) {
    return make(std::string(enum_name(v)));
  }
  template <class T, std::enable_if_t<has_visit<T>::value, int> = 0>
  json::Value make(const T& nested) {
    json::Value obj;
    ConfigWriter writer(doc_, obj);
    const_cast<T&>(nested).visit(writer);
    return obj;
  }

  json::Document& doc_;
  json::Value& object_;
};

// Lists every key of a config struct with its type, default and help — what `r1 run --help-stage TYPE`
// prints. Nested structs give dotted keys ("optim.lr"); their own fields follow the struct's row.
struct ConfigField {
  std::string key;           // dotted path
  std::string type;          // bool | int | number | string | strings | ints | json | object | one of: a | b
  std::string default_json;  // the default as JSON text
  std::string help;
};

class ConfigLister {
 public:
  template <class T>
  static std::vector<ConfigField> list(const T& config) {
    ConfigLister lister("");
    const_cast<T&>(config).visit(lister);
    return std::move(lister.fields_);
  }

  template <class T>
  void operator()(const char* key, const T& field, const char* help = "") {
    const std::string path = prefix_ + key;
    json::Document doc;
    ConfigWriter writer(doc, doc);
    writer(key, field);
    fields_.push_back({path, type_name(field), json::dump(doc[key]), help});
    nested(path, field);
  }

 private:
  explicit ConfigLister(std::string prefix) : prefix_(std::move(prefix)) {}

  static std::string type_name(bool) { return "bool"; }
  static std::string type_name(int) { return "int"; }
  static std::string type_name(int64_t) { return "int"; }
  static std::string type_name(double) { return "number"; }
  static std::string type_name(const std::string&) { return "string"; }
  static std::string type_name(const std::vector<std::string>&) { return "strings"; }
  static std::string type_name(const std::vector<int64_t>&) { return "ints"; }
  static std::string type_name(const RawJson&) { return "json"; }
  template <class T>
  static std::string type_name(const std::optional<T>& v) {
    return type_name(v.value_or(T{})) + " (optional)";
  }
  template <class E, std::enable_if_t<has_enum_names<E>::value, int> = 0>
  static std::string type_name(E value) {
    std::string out = "one of:";
    for (const auto& [e, name] : enum_names(value)) out += std::string(" ") + name;
    return out;
  }
  template <class T, std::enable_if_t<has_visit<T>::value, int> = 0>
  static std::string type_name(const T&) {
    return "object";
  }

  template <class T, std::enable_if_t<has_visit<T>::value, int> = 0>
  void nested(const std::string& path, const T& field) {
    ConfigLister inner(path + ".");
    const_cast<T&>(field).visit(inner);
    for (auto& f : inner.fields_) fields_.push_back(std::move(f));
  }
  template <class T, std::enable_if_t<!has_visit<T>::value, int> = 0>
  void nested(const std::string&, const T&) {}

  std::string prefix_;
  std::vector<ConfigField> fields_;
};

}  // namespace r1
