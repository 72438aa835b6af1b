// The tables of the run report (report_parts.h): the evaluate stage's models table, from eval.json or from
// its metrics lines, and a generic rendering of any JSON object as nested tables.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "rl/report/html.h"
#include "rl/report/report_parts.h"

namespace r1::rl::report {
namespace {

double number_or_nan(const json::Value& obj, const char* key) {
  const json::Value* v = obj.IsObject() ? json::find(obj, key) : nullptr;
  return v && v->IsNumber() ? v->GetDouble() : std::nan("");
}

std::string scalar_text(const json::Value& v) {
  if (v.IsNumber()) return format_number(v.GetDouble());
  if (v.IsString()) return v.GetString();
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsNull()) return "n/a";
  return clip_text(json::dump(v), 2000);
}

bool is_scalar(const json::Value& v) { return !v.IsObject() && !v.IsArray(); }

std::string format_fixed3(double v) {
  if (!std::isfinite(v)) return "n/a";
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.3f", v);
  return buf;
}

const char* const kEvalHeader =
    "<tr><th>model</th><th>accuracy</th><th>format rate</th><th>reward</th><th>language</th><th>rm score</th>"
    "<th>mean length (tokens)</th><th>truncated</th><th>completions</th><th>checkpoint</th></tr>\n";

// The values of one row of the models table (NaN: n/a).
struct EvalRowValues {
  double acc, fmt, reward, language, rm_score, len, trunc, completions;
};

EvalRowValues eval_row_values(const std::function<double(const char*)>& get) {
  return {get("accuracy"), get("format_rate"), get("reward"), get("language"), get("rm_score"),
          get("completion_len_mean"), get("truncation_rate"), get("completions")};
}

// One row of the models table; `best` marks the highest accuracy. language: the mean language score (0-1, three
// decimals); rm score: the reward model's mean raw score.
std::string eval_row(const std::string& name, const EvalRowValues& v, const std::string& path, bool best) {
  std::string row = "<tr" + std::string(best ? " class=\"best\"" : "") + "><td>" + html_escape(name) + "</td>";
  row += "<td class=\"num\">" + format_percent(v.acc) + "</td><td class=\"num\">" + format_percent(v.fmt) + "</td>";
  row += "<td class=\"num\">" + format_number(v.reward) + "</td><td class=\"num\">" + format_fixed3(v.language) +
         "</td><td class=\"num\">" + format_number(v.rm_score) + "</td><td class=\"num\">" + format_number(v.len) +
         "</td>";
  row += "<td class=\"num\">" + format_percent(v.trunc) + "</td><td class=\"num\">" + format_number(v.completions) +
         "</td><td class=\"path\">" + html_escape(path) + "</td></tr>\n";
  return row;
}

// A grid of an object of objects: a row per member, a column per field seen in any of them.
std::string grid_of_objects(const json::Value& obj, int depth);

std::string tables(const json::Value& v, int depth) {
  if (depth > 4) return "<code>" + html_escape(clip_text(json::dump(v), 2000)) + "</code>";
  if (v.IsArray()) {
    bool scalars = true;
    for (const auto& e : v.GetArray()) scalars = scalars && is_scalar(e);
    if (scalars) {
      std::string s;
      for (const auto& e : v.GetArray()) s += (s.empty() ? "" : ", ") + scalar_text(e);
      return html_escape(clip_text(s, 4000));
    }
    return "<code>" + html_escape(clip_text(json::dump(v), 4000)) + "</code>";
  }
  if (!v.IsObject()) return html_escape(scalar_text(v));
  bool all_objects = v.MemberCount() > 0;
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) all_objects = all_objects && it->value.IsObject();
  if (all_objects && depth > 0) return grid_of_objects(v, depth);
  std::string out = "<table class=\"kv\">\n";
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    const bool num = it->value.IsNumber();
    out += "<tr><th>" + html_escape(it->name.GetString()) + "</th><td" + (num ? " class=\"num\"" : "") + ">" +
           tables(it->value, depth + 1) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

std::string grid_of_objects(const json::Value& obj, int depth) {
  std::vector<std::string> columns;
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    for (auto f = it->value.MemberBegin(); f != it->value.MemberEnd(); ++f) {
      const std::string name = f->name.GetString();
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    }
  }
  std::string out = "<table class=\"grid\">\n<tr><th></th>";
  for (const auto& c : columns) out += "<th>" + html_escape(c) + "</th>";
  out += "</tr>\n";
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    out += "<tr><th>" + html_escape(it->name.GetString()) + "</th>";
    for (const auto& c : columns) {
      const json::Value* f = json::find(it->value, c.c_str());
      const bool num = f && f->IsNumber();
      out += std::string("<td") + (num ? " class=\"num\"" : "") + ">" + (f ? tables(*f, depth + 1) : "") + "</td>";
    }
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

}  // namespace

std::string render_eval_table(const json::Value& eval) {
  std::string out = "<p class=\"meta\">";
  for (const char* key : {"prompts", "samples_per_prompt", "temperature"}) {
    if (const json::Value* v = json::find(eval, key); v && is_scalar(*v)) {
      out += html_escape(key) + std::string(": ") + html_escape(scalar_text(*v)) + " &nbsp; ";
    }
  }
  out += "</p>\n<table class=\"grid eval\">\n" + std::string(kEvalHeader);
  const json::Value* models = eval.IsObject() ? json::find(eval, "models") : nullptr;
  if (!models || !models->IsObject()) return out + "</table>\n";
  double best = -1;
  for (auto it = models->MemberBegin(); it != models->MemberEnd(); ++it) {
    const double acc = number_or_nan(it->value, "accuracy");
    if (std::isfinite(acc)) best = std::max(best, acc);
  }
  for (auto it = models->MemberBegin(); it != models->MemberEnd(); ++it) {
    const json::Value& m = it->value;
    const json::Value* path = m.IsObject() ? json::find(m, "path") : nullptr;
    const double acc = number_or_nan(m, "accuracy");
    out += eval_row(it->name.GetString(), eval_row_values([&](const char* key) { return number_or_nan(m, key); }),
                    path && path->IsString() ? path->GetString() : "", models->MemberCount() > 1 && acc == best);
  }
  return out + "</table>\n";
}

std::string render_eval_table_from_metrics(const std::map<std::string, const StageMetrics*>& per_model) {
  auto last = [](const StageMetrics& m, const char* key) {
    auto it = m.series.find(key);
    return it == m.series.end() || it->second.points.empty() ? std::nan("") : it->second.points.back().second;
  };
  std::string out = "<table class=\"grid eval\">\n" + std::string(kEvalHeader);
  for (const auto& [name, m] : per_model) {
    EvalRowValues v = eval_row_values([&](const char* key) { return last(*m, key); });
    v.completions = std::nan("");
    out += eval_row(name, v, "", false);
  }
  return out + "</table>\n";
}

std::string render_json_tables(const json::Value& v) { return tables(v, 0); }

}  // namespace r1::rl::report
