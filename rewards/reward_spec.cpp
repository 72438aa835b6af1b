// See reward_spec.h. The only code that knows the spec grammar: the registry's builder, its validator and
// normaliser, and rl/'s recipe checks all start from parse_reward_spec().
#include "rewards/reward_spec.h"

#include "common/error.h"

namespace r1::rewards {
namespace {

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

RewardSpecNode leaf(const std::string& name, const std::string& where) {
  RewardSpecNode node;
  node.name = name;
  node.options.SetObject();
  node.where = where;
  return node;
}

RewardSpecNode parse_part(const json::Value& spec, const std::string& where);

RewardSpecNode parse_composite(const json::Value& list, const std::string& where) {
  if (!list.IsArray() || list.Empty()) fail(where, ": expected a non-empty array of rewards");
  RewardSpecNode node;
  node.where = where;
  for (rapidjson::SizeType k = 0; k < list.Size(); ++k)
    node.parts.push_back(parse_part(list[k], where + "[" + std::to_string(k) + "]"));
  return node;
}

// "a, b, c": a composite of the named rewards with their default options.
RewardSpecNode parse_name_list(const std::string& spec, const std::string& where) {
  RewardSpecNode node;
  node.where = where;
  size_t start = 0;
  for (;;) {
    size_t comma = spec.find(',', start);
    std::string name = trim(spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (name.empty()) fail(where, ": empty reward name in '", spec, "'");
    node.parts.push_back(leaf(name, where));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return node;
}

void check_object_keys(const json::Value& spec, const std::string& where) {
  static const char* const kKeys[] = {"name", "options", "weight", "label", "composite", "from_step", "to_step",
                                      "weight_schedule"};
  for (auto it = spec.MemberBegin(); it != spec.MemberEnd(); ++it) {
    std::string key(it->name.GetString(), it->name.GetStringLength());
    bool known = false;
    for (const char* k : kKeys) known = known || key == k;
    if (!known)
      fail(where, ": unknown key '", key,
           "' (expected name, options, weight, label, composite, from_step, to_step or weight_schedule)");
  }
  const bool composite = json::find(spec, "composite") != nullptr;
  if (composite && (json::find(spec, "name") != nullptr || json::find(spec, "options") != nullptr))
    fail(where, ": give either 'name' (with 'options') or 'composite', not both");
}

// A trainer step given at `at` (an integer; that it is >= 0 is checked by PartSchedule::validate).
int64_t step_value(const json::Value& v, const std::string& at) {
  if (!v.IsInt64()) {
    fail(at, ": expected a trainer step (an integer), got ", v.IsNumber() ? json::dump(v) : json::type_name(v));
  }
  return v.GetInt64();
}

// "from_step", "to_step" and "weight_schedule" ([[step, weight], ...]) of a part; checked as a whole.
PartSchedule parse_schedule(const json::Value& spec, const std::string& where) {
  PartSchedule out;
  if (const json::Value* v = json::find(spec, "from_step")) out.from_step = step_value(*v, where + ": key 'from_step'");
  if (const json::Value* v = json::find(spec, "to_step")) out.to_step = step_value(*v, where + ": key 'to_step'");
  if (const json::Value* v = json::find(spec, "weight_schedule")) {
    const std::string at = where + ": key 'weight_schedule'";
    if (!v->IsArray() || v->Empty())
      fail(at, ": expected a non-empty list of [step, weight] points, got ", json::dump(*v));
    for (rapidjson::SizeType k = 0; k < v->Size(); ++k) {
      const json::Value& p = (*v)[k];
      const std::string pt = str_cat(at, ": point [", k, "]");
      if (!p.IsArray() || p.Size() != 2 || !p[1].IsNumber())
        fail(pt, ": expected [step, weight] (an integer and a number), got ", json::dump(p));
      out.weight_points.emplace_back(step_value(p[0], pt), p[1].GetDouble());
    }
  }
  out.validate(where);
  return out;
}

// {"name": ..., "options": ..., "weight": ..., "label": ...} or {"composite": [...], "weight": ..., "label": ...},
// either with a schedule.
RewardSpecNode parse_object(const json::Value& spec, const std::string& where) {
  check_object_keys(spec, where);
  RewardSpecNode node;
  if (const json::Value* c = json::find(spec, "composite")) {
    node = parse_composite(*c, where + ".composite");
  } else {
    node = leaf(json::get_string(spec, "name", where), where);
    if (node.name.empty()) fail(where, ": key 'name': empty reward name");
    if (const json::Value* options = json::find(spec, "options"); options != nullptr && !options->IsNull()) {
      if (!options->IsObject())
        fail(where, ": key 'options': expected an object of options, got ", json::type_name(*options));
      node.options.CopyFrom(*options, node.options.GetAllocator());
    }
  }
  node.where = where;
  if (const json::Value* w = json::find(spec, "weight")) {
    if (!w->IsNumber()) fail(where, ": key 'weight': expected a number, got ", json::type_name(*w));
    node.weight = w->GetDouble();
  }
  if (const json::Value* l = json::find(spec, "label")) {
    if (!l->IsString()) fail(where, ": key 'label': expected a string, got ", json::type_name(*l));
    node.label = std::string(l->GetString(), l->GetStringLength());
  }
  node.schedule = parse_schedule(spec, where);
  return node;
}

// A part of a composite: a string (a whole spec, labelled by its text) or an object.
RewardSpecNode parse_part(const json::Value& spec, const std::string& where) {
  RewardSpecNode node;
  if (spec.IsString()) {
    const std::string text(spec.GetString(), spec.GetStringLength());
    node = parse_reward_spec(text, where);
    node.label = trim(text);
  } else if (spec.IsObject()) {
    node = parse_object(spec, where);
  } else {
    fail(where, ": expected a reward name or object, got ", json::type_name(spec));
  }
  if (node.label && *node.label == node.default_label()) node.label.reset();
  return node;
}

}  // namespace

RewardSpecNode parse_reward_spec(const std::string& text, const std::string& where) {
  const std::string spec = trim(text);
  if (spec.empty()) fail(where, ": empty reward spec");
  if (spec[0] == '{' || spec[0] == '[') return parse_reward_spec(json::parse(spec, where, /*allow_comments=*/true), where);
  if (spec.find(',') != std::string::npos) return parse_name_list(spec, where);
  return leaf(spec, where);
}

RewardSpecNode parse_reward_spec(const json::Value& spec, const std::string& where) {
  if (spec.IsString()) return parse_reward_spec(std::string(spec.GetString(), spec.GetStringLength()), where);
  if (spec.IsArray()) return parse_composite(spec, where);
  if (!spec.IsObject()) fail(where, ": a reward spec is a name, an array or an object, got ", json::type_name(spec));
  RewardSpecNode node = parse_object(spec, where);
  if (node.weight == 1.0 && !node.label && node.schedule.empty()) return node;
  // A weight, a label or a schedule at the top: a composite of this one part (whose label, inside it, may be dropped
  // when it is the default, as for any part).
  if (node.label && *node.label == node.default_label()) node.label.reset();
  RewardSpecNode root;
  root.where = where;
  root.parts.push_back(std::move(node));
  return root;
}

}  // namespace r1::rewards
