// See options.h.
#include "rewards/options.h"

#include "common/error.h"

namespace r1::rewards {

std::string options_help_text(const std::vector<ConfigField>& fields) {
  std::string out;
  for (const ConfigField& f : fields) {
    out += (out.empty() ? "" : "\n") + f.key + " (" + f.type + ", " + f.default_json + ")";
    if (!f.help.empty()) out += ": " + f.help;
  }
  return out;
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
