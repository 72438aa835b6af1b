// See registry.h. Spec parsing lives here so the CLI, recipes and plugins all build rewards the same way.
#include "rewards/registry.h"

#include <algorithm>
#include <map>

#include "common/error.h"
#include "rewards/composite.h"

namespace r1::rewards {
namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

const json::Value& empty_object() {
  static const json::Document* doc = [] {
    auto* d = new json::Document();
    d->SetObject();
    return d;
  }();
  return *doc;
}

// Makes labels unique: "math", "math#2", ...
void label_parts(std::vector<CompositePart>& parts) {
  std::map<std::string, int> seen;
  for (CompositePart& p : parts) {
    int n = ++seen[p.label];
    if (n > 1) p.label += "#" + std::to_string(n);
  }
}

}  // namespace

Registry& Registry::global() {
  static Registry* registry = [] {
    auto* r = new Registry();
    register_builtin_rewards(*r);
    return r;
  }();
  return *registry;
}

void Registry::add(RewardInfo info, RewardFactory factory) {
  std::lock_guard<std::mutex> lock(mutex_);
  R1_CHECK(!info.name.empty(), "a reward needs a name");
  R1_CHECK(entries_.count(info.name) == 0, "a reward named '", info.name, "' is already registered");
  std::string name = info.name;
  entries_.emplace(name, std::make_pair(std::move(info), std::move(factory)));
}

bool Registry::contains(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.count(name) != 0;
}

std::vector<RewardInfo> Registry::list() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<RewardInfo> out;
  for (const auto& [name, entry] : entries_) out.push_back(entry.first);
  return out;
}

RewardPtr Registry::make(const std::string& name, const json::Value& options, const std::string& where) const {
  RewardFactory factory;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(name);
    if (it == entries_.end()) {
      std::string known;
      for (const auto& [n, e] : entries_) known += (known.empty() ? "" : ", ") + n;
      fail(where, ": unknown reward '", name, "' (known: ", known, ")");
    }
    factory = it->second.second;
  }
  RewardPtr reward = factory(options.IsNull() ? empty_object() : options, where + ": reward '" + name + "'");
  R1_CHECK(reward != nullptr, where, ": reward '", name, "' factory returned nothing");
  return reward;
}

namespace {

CompositePart make_part(const Registry& registry, const json::Value& spec, const std::string& where);

RewardPtr make_composite(const Registry& registry, const json::Value& list, const std::string& where) {
  if (!list.IsArray() || list.Empty()) fail(where, ": expected a non-empty array of rewards");
  std::vector<CompositePart> parts;
  for (rapidjson::SizeType k = 0; k < list.Size(); ++k)
    parts.push_back(make_part(registry, list[k], where + "[" + std::to_string(k) + "]"));
  label_parts(parts);
  return std::make_shared<CompositeReward>(std::move(parts));
}

CompositePart make_part(const Registry& registry, const json::Value& spec, const std::string& where) {
  CompositePart part;
  if (spec.IsString()) {
    part.label = trim(spec.GetString());
    part.reward = registry.make_from_spec(spec.GetString(), where);
    return part;
  }
  if (!spec.IsObject()) fail(where, ": expected a reward name or object, got ", json::type_name(spec));
  for (auto it = spec.MemberBegin(); it != spec.MemberEnd(); ++it) {
    std::string key = it->name.GetString();
    if (key != "name" && key != "options" && key != "weight" && key != "label" && key != "composite")
      fail(where, ": unknown key '", key, "' (expected name, options, weight, label or composite)");
  }
  if (const json::Value* w = json::find(spec, "weight")) {
    if (!w->IsNumber()) fail(where, ": key 'weight': expected a number, got ", json::type_name(*w));
    part.weight = w->GetDouble();
  }
  if (const json::Value* c = json::find(spec, "composite")) {
    part.reward = make_composite(registry, *c, where + ".composite");
    part.label = "composite";
  } else {
    std::string name = json::get_string(spec, "name", where);
    const json::Value* options = json::find(spec, "options");
    part.reward = registry.make(name, options ? *options : empty_object(), where);
    part.label = name;
  }
  if (const json::Value* l = json::find(spec, "label")) {
    if (!l->IsString()) fail(where, ": key 'label': expected a string");
    part.label = l->GetString();
  }
  return part;
}

}  // namespace

RewardPtr Registry::make_from_spec(const std::string& spec_text, const std::string& where) const {
  std::string spec = trim(spec_text);
  if (spec.empty()) fail(where, ": empty reward spec");
  if (spec[0] == '{' || spec[0] == '[') {
    json::Document doc = json::parse(spec, where, /*allow_comments=*/true);
    return make_from_json(doc, where);
  }
  if (spec.find(',') != std::string::npos) {
    std::vector<CompositePart> parts;
    size_t start = 0;
    while (start <= spec.size()) {
      size_t comma = spec.find(',', start);
      std::string name = trim(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
      if (name.empty()) fail(where, ": empty reward name in '", spec, "'");
      CompositePart part;
      part.label = name;
      part.reward = make(name, empty_object(), where);
      parts.push_back(std::move(part));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    label_parts(parts);
    return std::make_shared<CompositeReward>(std::move(parts));
  }
  return make(spec, empty_object(), where);
}

RewardPtr Registry::make_from_json(const json::Value& spec, const std::string& where) const {
  if (spec.IsString()) return make_from_spec(spec.GetString(), where);
  if (spec.IsArray()) return make_composite(*this, spec, where);
  if (!spec.IsObject()) fail(where, ": a reward spec is a name, an array or an object, got ", json::type_name(spec));
  CompositePart part = make_part(*this, spec, where);
  if (part.weight == 1.0 && json::find(spec, "label") == nullptr) return part.reward;
  std::vector<CompositePart> parts;
  parts.push_back(std::move(part));
  return std::make_shared<CompositeReward>(std::move(parts));
}

}  // namespace r1::rewards
