// See options.h.
#include "rewards/options.h"

#include "common/error.h"

namespace r1::rewards {

OptionReader::OptionReader(const json::Value* options, std::string where)
    : options_(options), where_(std::move(where)) {
  if (options_ != nullptr && !options_->IsNull() && !options_->IsObject())
    fail(where_, ": expected a JSON object of options, got ", json::type_name(*options_));
  if (options_ != nullptr && options_->IsNull()) options_ = nullptr;
}

const json::Value* OptionReader::find(const char* key) {
  read_.insert(key);
  if (options_ == nullptr) return nullptr;
  return json::find(*options_, key);
}

std::string OptionReader::str(const char* key, const std::string& fallback) {
  const json::Value* v = find(key);
  if (v == nullptr) return fallback;
  if (!v->IsString()) fail(where_, ": option '", key, "': expected a string, got ", json::type_name(*v));
  return std::string(v->GetString(), v->GetStringLength());
}

std::string OptionReader::choice(const char* key, const std::string& fallback,
                                 std::initializer_list<const char*> allowed) {
  std::string value = str(key, fallback);
  std::string list;
  for (const char* a : allowed) {
    if (value == a) return value;
    list += list.empty() ? "" : ", ";
    list += a;
  }
  fail(where_, ": option '", key, "': '", value, "' is not one of ", list);
}

double OptionReader::number(const char* key, double fallback) {
  const json::Value* v = find(key);
  if (v == nullptr) return fallback;
  if (!v->IsNumber()) fail(where_, ": option '", key, "': expected a number, got ", json::type_name(*v));
  return v->GetDouble();
}

int64_t OptionReader::integer(const char* key, int64_t fallback) {
  const json::Value* v = find(key);
  if (v == nullptr) return fallback;
  if (v->IsInt64()) return v->GetInt64();
  if (v->IsDouble() && v->GetDouble() == static_cast<double>(static_cast<int64_t>(v->GetDouble())))
    return static_cast<int64_t>(v->GetDouble());
  fail(where_, ": option '", key, "': expected an integer, got ", json::dump(*v));
}

bool OptionReader::flag(const char* key, bool fallback) {
  const json::Value* v = find(key);
  if (v == nullptr) return fallback;
  if (!v->IsBool()) fail(where_, ": option '", key, "': expected true or false, got ", json::type_name(*v));
  return v->GetBool();
}

std::vector<std::string> OptionReader::strings(const char* key, const std::vector<std::string>& fallback) {
  const json::Value* v = find(key);
  if (v == nullptr) return fallback;
  if (v->IsString()) return {std::string(v->GetString(), v->GetStringLength())};
  if (!v->IsArray()) fail(where_, ": option '", key, "': expected a string or an array of strings");
  std::vector<std::string> out;
  for (const auto& item : v->GetArray()) {
    if (!item.IsString()) fail(where_, ": option '", key, "': every element must be a string");
    out.emplace_back(item.GetString(), item.GetStringLength());
  }
  return out;
}

const json::Value* OptionReader::raw(const char* key) { return find(key); }

void OptionReader::finish() const {
  if (options_ == nullptr) return;
  for (auto it = options_->MemberBegin(); it != options_->MemberEnd(); ++it) {
    std::string key(it->name.GetString(), it->name.GetStringLength());
    if (read_.count(key)) continue;
    std::string known;
    for (const std::string& k : read_) known += (known.empty() ? "" : ", ") + k;
    fail(where_, ": unknown option '", key, "' (known: ", known.empty() ? "none" : known, ")");
  }
}

std::optional<std::string> scalar_text(const json::Value& v) {
  if (v.IsString()) return std::string(v.GetString(), v.GetStringLength());
  if (v.IsNumber() || v.IsBool()) return json::dump(v);
  return std::nullopt;
}

const json::Value* row_field(const Sample& sample, const std::string& key) {
  if (sample.row == nullptr || !sample.row->IsObject()) return nullptr;
  return json::find(*sample.row, key.c_str());
}

std::optional<std::string> row_text_opt(const Sample& sample, const std::string& key, const char* reward) {
  const json::Value* v = row_field(sample, key);
  if (v == nullptr || v->IsNull()) return std::nullopt;
  std::optional<std::string> text = scalar_text(*v);
  if (!text) fail("reward '", reward, "': row field '", key, "' must be a string or a number, got ", json::type_name(*v));
  return text;
}

std::string row_text(const Sample& sample, const std::string& key, const char* reward) {
  std::optional<std::string> text = row_text_opt(sample, key, reward);
  if (!text) fail("reward '", reward, "': the row has no field '", key, "'");
  return *text;
}

}  // namespace r1::rewards
