// Recipes: JSON files (comments and trailing commas allowed) that describe a run as a list of stages.
//
//   // r1 run recipes/tiny_r1_zero.json
//   {
//     "name": "tiny_r1_zero",          // run name (default: the file name)
//     "seed": 1234,                    // base seed; each stage derives its own
//     "output_dir": "runs/tiny_r1_zero",
//     "stages": [
//       {"name": "base", "type": "pretrain", ...stage fields...},
//       {"name": "zero", "type": "grpo", ...}
//     ]
//   }
//
// `r1 run RECIPE --set key.path=value` edits the parsed document before validation. Path components walk
// objects by key and arrays by index — or, for arrays of objects, by the element's "name" (so
// `--set stages.zero.grpo.beta=0.01` works); a missing object on the way is created empty, so a section the
// recipe leaves at its defaults can be set too. The value is parsed as JSON when it parses (numbers, true,
// null, [..], {..}) and taken as a string otherwise. Validation of the stage fields happens in the stage
// (ConfigReader: unknown keys and wrong types are errors naming the key and the file).
#pragma once

#include <string>
#include <vector>

#include "common/json.h"

namespace r1::rl {

struct StageSpec {
  std::string name;
  std::string type;
  const json::Value* config = nullptr;  // the stage object (points into Recipe::doc)
  std::string where;                    // "recipes/x.json: stages[1] (zero)"
};

struct Recipe {
  std::string path;
  std::string name;
  int64_t seed = 1234;
  std::string output_dir;  // default: runs/<name>
  std::vector<StageSpec> stages;
  json::Document doc;  // the document after overrides (saved resolved by the pipeline)
};

// Parses a recipe, applies --set overrides in order, and checks the top level (name, seed, output_dir,
// stages with unique names and a type each). Throws r1::Error naming the file and the key.
Recipe load_recipe(const std::string& path, const std::vector<std::string>& overrides = {});

// Applies one "key.path=value" assignment to a document. `origin` names the recipe for errors.
void apply_override(json::Document& doc, const std::string& assignment, const std::string& origin);

}  // namespace r1::rl
