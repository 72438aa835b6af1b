// What the run report reads from a run directory (rl/run_dir.h describes its layout), read tolerantly: a
// run killed mid-write leaves a torn last line, and a hand-edited or foreign file may hold anything, so
// every problem becomes a note naming the file and line (the report shows the notes) and the readable
// rest is kept. Nothing here throws for bad content; only the run directory itself must exist.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"

namespace r1::rl::report {

// One metric of one stage: (step, value) in file order, finite values only.
struct MetricSeries {
  std::vector<std::pair<double, double>> points;
};

struct StageMetrics {
  std::vector<std::string> keys;  // in the order first seen
  std::map<std::string, MetricSeries> series;
  size_t lines = 0;
};

// One samples.jsonl line (fields absent from the line stay empty).
struct Sample {
  size_t line = 0;
  int64_t step = 0;
  std::optional<double> reward;
  std::string prompt, completion, answer, reason, finish, source;
  std::vector<std::pair<std::string, double>> components;
};

struct StageInfo {
  std::string name, type;  // type "" for a stage the recipe does not list
  bool completed = false;
  std::string output;
};

struct RunData {
  std::string root;
  std::string name;          // the recipe's name, or the directory's
  std::string recipe_text;   // recipe.resolved.json as written ("" when missing)
  std::vector<StageInfo> stages;                 // the recipe's order, then stages seen only in the logs
  std::map<std::string, StageMetrics> metrics;   // by the "stage" field of metrics.jsonl
  std::map<std::string, std::vector<Sample>> samples;  // by stage, in file order
  std::vector<std::string> notes;                // problems found, each naming file and line
};

// Reads root/recipe.resolved.json, state.json, metrics.jsonl and samples.jsonl. Throws r1::Error only when
// root is not a directory.
RunData read_run(const std::string& root);

// Parses one JSON file (a stage's eval.json or stats.json) into out. A missing file gives false; one that
// does not parse gives false and a note naming `label` (the path shown to the reader).
bool read_json_file(const std::string& path, const std::string& label, json::Document& out,
                    std::vector<std::string>& notes);

}  // namespace r1::rl::report
