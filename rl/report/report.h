// `r1 report RUN_DIR`: one self-contained HTML page about a run directory of `r1 run` — the recipe, per
// stage the curves of its metrics (inline SVG charts, rl/report/svg_chart.h, grouped by
// rl/report/metric_groups.h), the evaluate stage's table, rejection-sampling and reward-model statistics,
// and a browsable sample of completions per logged step. The page loads nothing: no scripts, fonts, images
// or style sheets from anywhere; every text taken from the run is HTML-escaped. A run that is still going
// or was killed (torn or malformed log lines, missing files) gives a page with notes naming file and line.
// docs/report.md describes the page.
#pragma once

#include <string>

namespace r1::rl::report {

// The page for run_dir. Throws r1::Error only when run_dir is not a directory.
std::string render_report(const std::string& run_dir);

// Writes the page to `output` (default: run_dir/report.html) atomically; returns the path written.
std::string write_report(const std::string& run_dir, const std::string& output = "");

}  // namespace r1::rl::report
