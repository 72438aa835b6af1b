// The samples section of the run report (report_parts.h): a stage's samples.jsonl lines grouped by step,
// each step a collapsed <details> block holding one collapsed block per completion (prompt, completion,
// answer, reward components, the reward's reason). Long texts are clipped and a stage with very many
// samples shows every k-th logged step, so that the page stays a few megabytes at most.
#include <algorithm>
#include <cmath>
#include <map>

#include "rl/report/html.h"
#include "rl/report/report_parts.h"

namespace r1::rl::report {
namespace {

constexpr size_t kMaxSamples = 2000;  // per stage
constexpr size_t kMaxPromptChars = 6000, kMaxCompletionChars = 20000, kPreviewChars = 100;

std::string one_line(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return s;
}

std::string kv_row(const std::string& key, const std::string& value_html) {
  return "<tr><th>" + html_escape(key) + "</th><td>" + value_html + "</td></tr>\n";
}

std::string render_sample(const Sample& s) {
  std::string summary = "<span class=\"reward\">reward " + (s.reward ? format_number(*s.reward) : "n/a") + "</span>";
  if (!s.answer.empty()) summary += " · answer " + html_escape(clip_text(s.answer, 40));
  if (!s.finish.empty()) summary += " · " + html_escape(s.finish);
  summary += " — <span class=\"preview\">" + html_escape(one_line(clip_text(s.completion, kPreviewChars))) + "</span>";
  std::string out = "<details class=\"sample\"><summary>" + summary + "</summary>\n<div class=\"body\">\n";
  out += "<div class=\"label\">prompt</div><pre>" + html_escape(clip_text(s.prompt, kMaxPromptChars)) + "</pre>\n";
  out += "<div class=\"label\">completion</div><pre>" + html_escape(clip_text(s.completion, kMaxCompletionChars)) +
         "</pre>\n<table class=\"kv\">\n";
  if (!s.answer.empty()) out += kv_row("reference answer", html_escape(clip_text(s.answer, 2000)));
  if (!s.source.empty()) out += kv_row("source", html_escape(s.source));
  out += kv_row("reward", s.reward ? format_number(*s.reward) : "n/a");
  for (const auto& [name, value] : s.components) out += kv_row("\xE2\x86\xB3 " + name, format_number(value));
  if (!s.finish.empty()) out += kv_row("finish", html_escape(s.finish));
  if (!s.reason.empty()) out += kv_row("reason", html_escape(clip_text(s.reason, 4000)));
  out += kv_row("samples.jsonl line", std::to_string(s.line));
  return out + "</table>\n</div></details>\n";
}

}  // namespace

std::string render_samples(const std::vector<Sample>& samples) {
  std::map<int64_t, std::vector<const Sample*>> by_step;
  for (const Sample& s : samples) by_step[s.step].push_back(&s);
  const size_t stride = std::max<size_t>(1, (samples.size() + kMaxSamples - 1) / kMaxSamples);
  std::string out = "<p class=\"meta\">" + std::to_string(samples.size()) + " completions at " +
                    std::to_string(by_step.size()) + " logged steps (samples.jsonl)";
  if (stride > 1) out += "; every " + std::to_string(stride) + "th logged step is shown";
  out += "</p>\n";
  size_t index = 0;
  for (const auto& [step, list] : by_step) {
    const bool last = index + 1 == by_step.size();
    if (index++ % stride != 0 && !last) continue;
    double sum = 0;
    size_t n = 0;
    for (const Sample* s : list) {
      if (s->reward) sum += *s->reward, ++n;
    }
    out += "<details class=\"step\"><summary>step " + std::to_string(step) + " · " + std::to_string(list.size()) +
           " completions · mean reward " + (n ? format_number(std::round(sum / n * 1000) / 1000) : "n/a") +
           "</summary>\n";
    for (const Sample* s : list) out += render_sample(*s);
    out += "</details>\n";
  }
  return out;
}

}  // namespace r1::rl::report
