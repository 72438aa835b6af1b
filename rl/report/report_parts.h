// The sections of the run report (rl/report/report.h), each a piece of HTML: a stage's charts, the tables
// of a stage's JSON files (the evaluate table; generic tables for stats.json and the reward model's
// eval.json), and the samples of a stage. Internal to rl/report/.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/json.h"
#include "rl/report/run_data.h"

namespace r1::rl::report {

// The charts of one stage: main groups in a grid, the others inside a collapsed "more metrics" block.
// `charts` counts the <svg> charts written.
std::string render_stage_charts(const StageMetrics& metrics, size_t& charts);

// The evaluate stage's eval.json ({"prompts", "samples_per_prompt", "temperature", "models": {name: {...}}})
// as a table of models × accuracy, format rate, reward, length, truncation.
std::string render_eval_table(const json::Value& eval);

// The same table from the evaluate stage's metrics lines ("<stage>/<model>"), for a run whose eval.json
// is missing (the stage did not finish writing it).
std::string render_eval_table_from_metrics(const std::map<std::string, const StageMetrics*>& per_model);

// Any JSON object as nested tables: scalars as key/value rows, an object of objects (per source, per model)
// as one grid with a column per field.
std::string render_json_tables(const json::Value& v);

// The samples of one stage grouped by step in <details> blocks (prompt, completion, reward, components).
std::string render_samples(const std::vector<Sample>& samples);

}  // namespace r1::rl::report
