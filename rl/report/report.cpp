// See report.h. The page: a header, the notes (problems met while reading), a table of contents, the
// recipe (stage list and the resolved recipe, collapsed), then a section per stage: status, charts, the
// tables of its eval.json / stats.json, its samples.
#include "rl/report/report.h"

#include <algorithm>
#include <map>

#include "common/fs.h"
#include "rl/report/html.h"
#include "rl/report/report_parts.h"
#include "rl/report/run_data.h"

namespace r1::rl::report {
namespace {

const char* const kStyle = R"css(
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px auto;
       max-width: 1560px; padding: 0 16px; color: #222; background: #fafafa; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
section { background: #fff; border: 1px solid #e2e2e2; border-radius: 6px; padding: 4px 18px 14px; margin: 18px 0; }
.meta { color: #666; } .type { color: #777; font-weight: normal; }
.notes { background: #fff6e0; border: 1px solid #e8c36a; border-radius: 6px; padding: 6px 18px; }
.notes li { font-family: ui-monospace, monospace; font-size: 12.5px; }
nav a { margin-right: 14px; }
.charts { display: flex; flex-wrap: wrap; gap: 8px; }
figure { margin: 0; flex: 1 1 540px; min-width: 0; max-width: 780px; border: 1px solid #eee; border-radius: 4px; background: #fff; }
svg.chart { display: block; width: 100%; height: auto; }
svg.chart text { font-family: system-ui, sans-serif; fill: #333; }
svg.chart .title { font-size: 15px; font-weight: 600; } svg.chart .tick { font-size: 12px; fill: #555; }
svg.chart .axis { font-size: 13px; fill: #444; } svg.chart .legend { font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0; } th, td { border: 1px solid #ddd; padding: 3px 8px; vertical-align: top; }
th { background: #f3f3f3; text-align: left; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.path { font-family: ui-monospace, monospace; font-size: 12px; color: #555; }
tr.best td { background: #eef8ee; font-weight: 600; }
table.kv table { margin: 0; }
details { margin: 4px 0; } summary { cursor: pointer; }
details.step > summary { font-weight: 600; }
details.sample { margin-left: 18px; border-left: 3px solid #e4e4e4; padding-left: 8px; }
details.sample .reward { font-weight: 600; } .preview { color: #666; font-family: ui-monospace, monospace; font-size: 12.5px; }
pre { background: #f6f6f6; border: 1px solid #e6e6e6; padding: 8px; white-space: pre-wrap; word-break: break-word;
      font-size: 12.5px; max-height: 480px; overflow: auto; }
.label { font-size: 12px; color: #777; margin-top: 6px; }
)css";

std::string stage_anchor(size_t index) { return "stage-" + std::to_string(index + 1); }

std::string status_line(const StageInfo& s, const StageMetrics* m) {
  std::string out = "<p class=\"meta\">";
  out += s.completed ? "completed" + (s.output.empty() ? "" : ": output " + html_escape(s.output))
                     : std::string(s.type.empty() ? "not in the recipe" : "not completed");
  if (m) {
    double first = 0, last = 0;
    bool any = false;
    for (const auto& [k, series] : m->series) {
      for (const auto& p : series.points) {
        first = any ? std::min(first, p.first) : p.first, last = any ? std::max(last, p.first) : p.first;
        any = true;
      }
    }
    out += " · " + std::to_string(m->lines) + " metrics lines";
    if (any) out += ", steps " + format_number(first) + "–" + format_number(last);
  }
  return out + "</p>\n";
}

// The tables of a stage's own files: eval.json (the evaluate table when it holds "models"), stats.json.
std::string stage_files(const RunData& run, const StageInfo& s, std::vector<std::string>& notes, bool& eval_table) {
  std::string out;
  for (const char* file : {"eval.json", "stats.json"}) {
    const std::string rel = "stages/" + s.name + "/" + file;
    json::Document doc;
    if (!read_json_file(path_join(run.root, rel), rel, doc, notes)) continue;
    out += "<h3>" + html_escape(rel) + "</h3>\n";
    const json::Value* models = doc.IsObject() ? json::find(doc, "models") : nullptr;
    if (models && models->IsObject()) {
      out += render_eval_table(doc);
      eval_table = true;
    } else {
      out += render_json_tables(doc);
    }
  }
  return out;
}

std::string stage_section(const RunData& run, size_t index, std::vector<std::string>& notes, size_t& charts) {
  const StageInfo& s = run.stages[index];
  auto mit = run.metrics.find(s.name);
  const StageMetrics* m = mit == run.metrics.end() ? nullptr : &mit->second;
  std::string out = "<section id=\"" + stage_anchor(index) + "\">\n<h2>" + html_escape(s.name);
  if (!s.type.empty()) out += " <span class=\"type\">(" + html_escape(s.type) + ")</span>";
  out += "</h2>\n" + status_line(s, m);
  if (m && !m->keys.empty()) out += render_stage_charts(*m, charts);
  bool eval_table = false;
  out += stage_files(run, s, notes, eval_table);
  // "<stage>/<model>" metrics lines: the evaluate stage's per-model results.
  std::map<std::string, const StageMetrics*> per_model;
  for (const auto& [name, sm] : run.metrics) {
    if (name.size() > s.name.size() + 1 && name.compare(0, s.name.size() + 1, s.name + "/") == 0) {
      per_model[name.substr(s.name.size() + 1)] = &sm;
    }
  }
  if (!eval_table && !per_model.empty()) {
    out += "<h3>Evaluation (from metrics.jsonl; eval.json is missing)</h3>\n" +
           render_eval_table_from_metrics(per_model);
  }
  if (auto sit = run.samples.find(s.name); sit != run.samples.end()) {
    out += "<h3>Samples</h3>\n" + render_samples(sit->second);
  }
  return out + "</section>\n";
}

std::string recipe_section(const RunData& run) {
  std::string out = "<section id=\"recipe\">\n<h2>Recipe</h2>\n<table class=\"grid\">\n"
                    "<tr><th>#</th><th>stage</th><th>type</th><th>status</th></tr>\n";
  for (size_t i = 0; i < run.stages.size(); ++i) {
    const StageInfo& s = run.stages[i];
    out += "<tr><td class=\"num\">" + std::to_string(i + 1) + "</td><td><a href=\"#" + stage_anchor(i) + "\">" +
           html_escape(s.name) + "</a></td><td>" + html_escape(s.type) + "</td><td>" +
           (s.completed ? "completed" : "not completed") + "</td></tr>\n";
  }
  out += "</table>\n";
  if (!run.recipe_text.empty()) {
    out += "<details><summary>recipe.resolved.json</summary>\n<pre>" + html_escape(run.recipe_text) +
           "</pre>\n</details>\n";
  }
  return out + "</section>\n";
}

}  // namespace

std::string render_report(const std::string& run_dir) {
  RunData run = read_run(run_dir);
  std::vector<std::string> notes = run.notes;
  size_t charts = 0;
  std::string body = recipe_section(run);
  for (size_t i = 0; i < run.stages.size(); ++i) body += stage_section(run, i, notes, charts);

  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>r1 report: " + html_escape(run.name) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  out += "<h1>r1 run report: " + html_escape(run.name) + "</h1>\n<p class=\"meta\">run directory " +
         html_escape(run.root) + " · " + std::to_string(run.stages.size()) + " stages · " + std::to_string(charts) +
         " charts · written by <code>r1 report</code></p>\n";
  if (!notes.empty()) {
    out += "<div class=\"notes\" id=\"notes\"><h2>Notes</h2>\n<ul>\n";
    for (const auto& n : notes) out += "<li>" + html_escape(n) + "</li>\n";
    out += "</ul>\n</div>\n";
  }
  out += "<nav><a href=\"#recipe\">recipe</a>";
  for (size_t i = 0; i < run.stages.size(); ++i) {
    out += "<a href=\"#" + stage_anchor(i) + "\">" + html_escape(run.stages[i].name) + "</a>";
  }
  out += "</nav>\n" + body + "</body>\n</html>\n";
  return out;
}

std::string write_report(const std::string& run_dir, const std::string& output) {
  const std::string path = output.empty() ? path_join(run_dir, "report.html") : output;
  write_file_atomic(path, render_report(run_dir));
  return path;
}

}  // namespace r1::rl::report
