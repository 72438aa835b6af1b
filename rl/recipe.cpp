// See recipe.h.
#include "rl/recipe.h"

#include <set>
#include <sstream>

#include "common/error.h"

namespace r1::rl {
namespace {

bool is_index(const std::string& s) {
  return !s.empty() && s.size() < 10 && s.find_first_not_of("0123456789") == std::string::npos;
}

json::Value parse_value(const std::string& text, json::Document& doc) {
  json::Value out;
  try {
    json::Document parsed = json::parse(text, "--set value", false);
    out.CopyFrom(parsed, doc.GetAllocator());
  } catch (const Error&) {
    out.SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), doc.GetAllocator());
  }
  return out;
}

}  // namespace

void apply_override(json::Document& doc, const std::string& assignment, const std::string& origin) {
  const size_t eq = assignment.find('=');
  R1_CHECK(eq != std::string::npos && eq > 0, "--set '", assignment, "': expected key.path=value");
  const std::string path = assignment.substr(0, eq);
  std::vector<std::string> parts;
  std::stringstream in(path);
  for (std::string part; std::getline(in, part, '.');) {
    R1_CHECK(!part.empty(), "--set '", assignment, "': empty component in the key path");
    parts.push_back(part);
  }
  json::Value* node = &doc;
  std::string walked;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& part = parts[i];
    const bool last = i + 1 == parts.size();
    const std::string here = walked.empty() ? part : walked + "." + part;
    if (node->IsObject()) {
      auto it = node->FindMember(part.c_str());
      if (it == node->MemberEnd()) {
        if (last) {
          json::set_member(doc, *node, part, parse_value(assignment.substr(eq + 1), doc));
          return;
        }
        // A section the recipe leaves at its defaults ("grpo", "dapo", ...): start it empty. The stage's
        // validation still rejects a key that is not one of its sections.
        json::set_member(doc, *node, part, json::Value(rapidjson::kObjectType));
        it = node->FindMember(part.c_str());
      }
      node = &it->value;
    } else if (node->IsArray()) {
      json::Value* next = nullptr;
      if (is_index(part)) {
        size_t index = std::stoul(part);
        R1_CHECK(index < node->Size(), origin, ": --set ", path, ": index ", index, " is out of range for '", walked,
                 "' (", node->Size(), " elements)");
        next = &(*node)[static_cast<rapidjson::SizeType>(index)];
      } else {
        for (auto& element : node->GetArray()) {
          const json::Value* name = json::find(element, "name");
          if (name && name->IsString() && part == name->GetString()) next = &element;
        }
        R1_CHECK(next != nullptr, origin, ": --set ", path, ": no element named '", part, "' in '", walked, "'");
      }
      node = next;
    } else {
      fail(origin, ": --set ", path, ": '", walked, "' is a ", json::type_name(*node), ", not an object or a list");
    }
    walked = here;
    if (last) *node = parse_value(assignment.substr(eq + 1), doc);
  }
}

Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides) {
  Recipe recipe;
  recipe.path = path;
  recipe.doc = json::parse_file(path, /*allow_comments=*/true);
  R1_CHECK(recipe.doc.IsObject(), path, ": a recipe must be a JSON object, got ", json::type_name(recipe.doc));
  for (const auto& o : overrides) apply_override(recipe.doc, o, path);

  // "source" is informational: the pipeline writes it into recipe.resolved.json, which must load again.
  static const std::set<std::string> kTopKeys = {"name", "seed", "output_dir", "stages", "description", "source"};
  std::set<std::string> seen;
  for (auto it = recipe.doc.MemberBegin(); it != recipe.doc.MemberEnd(); ++it) {
    R1_CHECK(kTopKeys.count(it->name.GetString()), path, ": unknown top-level key '", it->name.GetString(),
             "' (accepted: name, seed, output_dir, stages, description, source)");
    R1_CHECK(seen.insert(it->name.GetString()).second, path, ": duplicate top-level key '", it->name.GetString(), "'");
  }
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  if (base.size() > 5 && base.substr(base.size() - 5) == ".json") base.resize(base.size() - 5);
  recipe.name = json::opt_string(recipe.doc, "name", path).value_or(base);
  recipe.seed = json::opt_int(recipe.doc, "seed", path).value_or(1234);
  recipe.output_dir = json::opt_string(recipe.doc, "output_dir", path).value_or("runs/" + recipe.name);

  const json::Value& stages = json::get(recipe.doc, "stages", path);
  R1_CHECK(stages.IsArray() && !stages.Empty(), path, ": key 'stages': expected a non-empty list of stages");
  std::set<std::string> names;
  for (rapidjson::SizeType i = 0; i < stages.Size(); ++i) {
    const json::Value& stage = stages[i];
    const std::string at = path + ": stages[" + std::to_string(i) + "]";
    R1_CHECK(stage.IsObject(), at, ": expected an object, got ", json::type_name(stage));
    StageSpec spec;
    spec.type = json::get_string(stage, "type", at);
    spec.name = json::opt_string(stage, "name", at).value_or(spec.type + std::to_string(i));
    R1_CHECK(names.insert(spec.name).second, at, ": duplicate stage name '", spec.name, "'");
    R1_CHECK(spec.name.find_first_of("/\\. ") == std::string::npos, at, ": stage name '", spec.name,
             "' may not contain '/', '\\', '.' or spaces (it names a directory)");
    spec.config = &stage;
    spec.where = at + " (" + spec.name + ")";
    recipe.stages.push_back(std::move(spec));
  }
  return recipe;
}

}  // namespace r1::rl
