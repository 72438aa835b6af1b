// The pipeline runner behind `r1 run RECIPE`: parses the recipe and every stage's config, saves the resolved
// recipe in the run directory, then runs the stages in order. With resume, completed stages are skipped
// and the interrupted stage continues from its latest checkpoint.
//
// In a job of several processes (RunOptions::world) every rank parses the recipe; rank 0 creates the run
// directory and writes everything in it; a data-parallel stage runs on every rank (each takes its share of
// every step, dist/world.h), any other stage on rank 0 alone; after each stage rank 0 announces its output in
// the job's store and the others continue from it. The run directory must be one directory every rank sees
// (the same machine, or a shared file system across nodes).
#pragma once

#include <string>
#include <vector>

namespace r1::dist {
class World;
}

namespace r1::rl {

struct RunOptions {
  std::vector<std::string> overrides;  // --set key.path=value, in order
  std::string output_dir;              // --output (default: the recipe's output_dir)
  bool resume = false;                 // --resume
  bool quiet = false;                  // no progress bars
  bool check_only = false;             // --check: parse and validate every stage, print, run nothing
  // The job this process is a rank of (r1 run --nproc-per-node, torchrun); null: a single process. Every rank
  // calls run_recipe with the same recipe and options: data-parallel stages (Stage::data_parallel) run on every
  // rank, the others on rank 0 while the rest wait for their outputs; rank 0 alone writes the run directory.
  const dist::World* world = nullptr;
};

// Runs the recipe; returns the run directory ("" with check_only). Throws r1::Error on bad input: every
// stage's keys, values, templates and stage: references are checked before the first stage runs, and an
// error caused by a --set override names that override.
std::string run_recipe(const std::string& recipe_path, const RunOptions& options);

// The text run_recipe saves as recipe.resolved.json (every stage parsed and validated, nothing run): every
// key of every stage with its default, reward specs in normal form. Loading it as a recipe resolves to the
// same stages again.
std::string resolve_recipe(const std::string& recipe_path, const RunOptions& options);

// The stage types a recipe may use, with a one-line description each (for --help).
std::vector<std::pair<std::string, std::string>> stage_types();

// Every key of a stage type with its type, default and help, as `r1 run --help-stage TYPE` prints it (from
// the stage config's visit(), the same list that reads recipes). Throws r1::Error for an unknown type.
std::string stage_help(const std::string& type);

}  // namespace r1::rl
