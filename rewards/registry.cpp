// See registry.h. Every path from a spec to rewards goes through parse_reward_spec() (reward_spec.h): the
// builder, the validator, the normaliser and walk() see the same parts at the same places.
#include "rewards/registry.h"

#include <map>

#include "common/error.h"
#include "rewards/composite.h"
#include "rewards/reward_spec.h"

namespace r1::rewards {
namespace {

const json::Value& empty_object() {
  static const json::Document* doc = [] {
    auto* d = new json::Document();
    d->SetObject();
    return d;
  }();
  return *doc;
}

std::string reward_where(const RewardSpecNode& node) { return node.where + ": reward '" + node.name + "'"; }

// Makes labels unique: "math", "math#2", ...
void label_parts(std::vector<CompositePart>& parts) {
  std::map<std::string, int> seen;
  for (CompositePart& p : parts) {
    int n = ++seen[p.label];
    if (n > 1) p.label += "#" + std::to_string(n);
  }
}

void visit_rewards(const RewardSpecNode& node, const SpecVisitor& visit) {
  if (!node.is_composite()) {
    visit(node.name, node.options, reward_where(node));
    return;
  }
  for (const RewardSpecNode& part : node.parts) visit_rewards(part, visit);
}

RewardPtr build(const Registry& registry, const RewardSpecNode& node) {
  if (!node.is_composite()) return registry.make(node.name, node.options, node.where);
  std::vector<CompositePart> parts;
  for (const RewardSpecNode& p : node.parts) {
    parts.push_back({p.label.value_or(p.default_label()), p.weight, build(registry, p), p.schedule});
  }
  label_parts(parts);
  return std::make_shared<CompositeReward>(std::move(parts));
}

void add_string(json::Value& object, const char* key, const std::string& value, json::Document& doc) {
  auto& a = doc.GetAllocator();
  object.AddMember(json::Value(key, a), json::Value(value.c_str(), static_cast<rapidjson::SizeType>(value.size()), a), a);
}

// A part's schedule keys, those that are set ("from_step", "to_step", "weight_schedule": [[step, weight], ...]).
void add_schedule(json::Value& object, const PartSchedule& schedule, json::Document& doc) {
  auto& a = doc.GetAllocator();
  if (schedule.from_step) object.AddMember("from_step", json::Value(*schedule.from_step), a);
  if (schedule.to_step) object.AddMember("to_step", json::Value(*schedule.to_step), a);
  if (schedule.weight_points.empty()) return;
  json::Value points(rapidjson::kArrayType);
  for (const auto& [step, weight] : schedule.weight_points) {
    json::Value point(rapidjson::kArrayType);
    point.PushBack(json::Value(step), a).PushBack(json::Value(weight), a);
    points.PushBack(point, a);
  }
  object.AddMember("weight_schedule", points, a);
}

// The normal form of a node (see Registry::normalize); `options_of` gives a reward's complete options.
json::Value normal_form(const RewardSpecNode& node, bool as_part, json::Document& doc,
                        const std::function<json::Document(const RewardSpecNode&)>& options_of) {
  auto& a = doc.GetAllocator();
  json::Value out(rapidjson::kObjectType);
  if (node.is_composite()) {
    json::Value parts(rapidjson::kArrayType);
    for (const RewardSpecNode& p : node.parts) parts.PushBack(normal_form(p, true, doc, options_of), a);
    out.AddMember("composite", parts, a);
  } else {
    add_string(out, "name", node.name, doc);
  }
  if (as_part) out.AddMember("weight", json::Value(node.weight), a);
  if (as_part && node.label) add_string(out, "label", *node.label, doc);
  if (as_part) add_schedule(out, node.schedule, doc);
  if (!node.is_composite()) out.AddMember("options", json::Value(options_of(node), a), a);
  return out;
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

void Registry::add(RewardInfo info, RewardFactory factory, OptionsNormalizer normalize) {
  std::lock_guard<std::mutex> lock(mutex_);
  R1_CHECK(!info.name.empty(), "a reward needs a name");
  R1_CHECK(entries_.count(info.name) == 0, "a reward named '", info.name, "' is already registered");
  std::string name = info.name;
  entries_.emplace(name, Entry{std::move(info), std::move(factory), std::move(normalize)});
}

bool Registry::contains(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return entries_.count(name) != 0;
}

std::vector<RewardInfo> Registry::list() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<RewardInfo> out;
  for (const auto& [name, entry] : entries_) out.push_back(entry.info);
  return out;
}

const Registry::Entry& Registry::entry(const std::string& name, const std::string& where) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    std::string known;
    for (const auto& [n, e] : entries_) known += (known.empty() ? "" : ", ") + n;
    fail(where, ": unknown reward '", name, "' (known: ", known, ")");
  }
  return it->second;  // entries are never removed, so the reference stays valid after the lock
}

RewardPtr Registry::make(const std::string& name, const json::Value& options, const std::string& where) const {
  RewardFactory factory = entry(name, where).factory;
  RewardPtr reward = factory(options.IsNull() ? empty_object() : options, where + ": reward '" + name + "'");
  R1_CHECK(reward != nullptr, where, ": reward '", name, "' factory returned nothing");
  return reward;
}

RewardPtr Registry::make_from_spec(const std::string& spec, const std::string& where) const {
  return build(*this, parse_reward_spec(spec, where));
}

RewardPtr Registry::make_from_json(const json::Value& spec, const std::string& where) const {
  return build(*this, parse_reward_spec(spec, where));
}

void Registry::walk(const json::Value& spec, const std::string& where, const SpecVisitor& visit) {
  visit_rewards(parse_reward_spec(spec, where), visit);
}

void Registry::validate(const json::Value& spec, const std::string& where) const {
  (void)normalize(spec, where);
}

json::Document Registry::normalize(const json::Value& spec, const std::string& where) const {
  const RewardSpecNode root = parse_reward_spec(spec, where);
  auto options_of = [this](const RewardSpecNode& node) {
    const Entry& e = entry(node.name, node.where);
    json::Document options;
    if (e.normalize) return e.normalize(node.options, reward_where(node));
    options.CopyFrom(node.options, options.GetAllocator());  // free-form: passed through as given
    return options;
  };
  json::Document doc;
  json::Value normal = normal_form(root, /*as_part=*/false, doc, options_of);
  static_cast<json::Value&>(doc) = normal;  // moves: `normal` lives in doc's allocator
  return doc;
}

namespace {

// Text for a table cell (or a paragraph): '|' would end the cell and, outside a code span, '<' would open an HTML tag
// ("<answer>"), so they are escaped.
std::string markdown_cell(const std::string& text, bool code_span = false) {
  std::string out;
  for (char c : text) {
    if (c == '|' || (c == '<' && !code_span)) out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

}  // namespace

std::string options_markdown(const Registry& registry) {
  std::string out;
  for (const RewardInfo& info : registry.list()) {
    out += "### `" + info.name + "`\n\n" + markdown_cell(info.description) + "\n\n";
    if (info.options.empty()) {
      out += info.options_help.empty() ? "No options.\n\n" : "Options (free-form): " + info.options_help + "\n\n";
      continue;
    }
    out += "| option | type | default | meaning |\n|---|---|---|---|\n";
    for (const ConfigField& f : info.options) {
      out += "| `" + f.key + "` | " + markdown_cell(f.type) + " | `" + markdown_cell(f.default_json, true) + "` | " +
             markdown_cell(f.help) + " |\n";
    }
    out += "\n";
  }
  return out;
}

}  // namespace r1::rewards
