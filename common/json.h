// JSON on RapidJSON: parsing with located errors (origin:line:column), serialisation, and typed member
// access whose errors name the key path and the origin ("recipe.json: key 'grpo.beta': expected a number,
// got a string").
//
// Recipes and configs may carry // and /* */ comments and trailing commas; JSONL data lines are parsed
// strictly (comments off) because a comment there is almost certainly a corrupted line.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace r1::json {

using Value = rapidjson::Value;
using Document = rapidjson::Document;

// Parses text; on error throws r1::Error "origin:line:col: <reason>".
Document parse(std::string_view text, const std::string& origin, bool allow_comments = false);
// Reads and parses a file (comments allowed); errors name the path.
Document parse_file(const std::string& path, bool allow_comments = true);

// Compact (or indented) serialisation.
std::string dump(const Value& v, bool pretty = false);

// Human-readable type name of a value: "null", "bool", "number", "string", "array", "object".
const char* type_name(const Value& v);

// Typed access. `where` names the origin and key path for errors, e.g. "recipe.json: grpo".
// get_* throw when the key is missing; opt_* return nullopt / the default when missing and throw on a
// wrong type.
const Value& get(const Value& obj, const char* key, const std::string& where);
const Value* find(const Value& obj, const char* key);
std::string get_string(const Value& obj, const char* key, const std::string& where);
double get_double(const Value& obj, const char* key, const std::string& where);
int64_t get_int(const Value& obj, const char* key, const std::string& where);
bool get_bool(const Value& obj, const char* key, const std::string& where);
std::optional<std::string> opt_string(const Value& obj, const char* key, const std::string& where);
std::optional<double> opt_double(const Value& obj, const char* key, const std::string& where);
std::optional<int64_t> opt_int(const Value& obj, const char* key, const std::string& where);
std::optional<bool> opt_bool(const Value& obj, const char* key, const std::string& where);
// Accepts a scalar int or a list of ints (e.g. "eos_token_id": 1 or [1, 2]); missing → empty.
std::vector<int64_t> opt_int_list(const Value& obj, const char* key, const std::string& where);

// Writes a value into a document-owned object, replacing any existing member.
void set_member(Document& doc, Value& obj, const std::string& key, Value value);

}  // namespace r1::json
