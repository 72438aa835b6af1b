// r1 report (rl/report/report.h): the page of a tiny R1-Zero run (tests/fixtures/runs/tiny_r1_zero, lines
// of a real run's logs) holds a chart per metric group, the evaluation table and escaped samples, and loads
// nothing from the network; a killed run's torn or garbage lines, and a directory with nothing in it, give
// a page with notes naming file and line; rejection-sampling and reward-model files become tables.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>

#include "common/error.h"
#include "common/fs.h"
#include "rl/report/report.h"
#include "scratch_dir.h"

namespace r1::rl::report {
namespace {

const std::string kTinyRun = std::string(R1_TEST_DATA) + "/runs/tiny_r1_zero";

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + what.size())) ++n;
  return n;
}

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

// No script and no URL of any kind; nothing that reaches the network.
void expect_offline(const std::string& html) {
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
}

// No NaN or infinity inside any <svg> element.
void expect_finite_svgs(const std::string& html) {
  const std::regex bad(R"([="\s,-](nan|inf)\b)", std::regex::icase);
  for (size_t p = html.find("<svg"); p != std::string::npos; p = html.find("<svg", p + 4)) {
    const std::string svg = html.substr(p, html.find("</svg>", p) - p);
    EXPECT_FALSE(std::regex_search(svg, bad)) << svg.substr(0, 400);
  }
}

class ReportTest : public testing::ScratchDirTest {
 protected:
  // A copy of the tiny run to spoil.
  std::string copy_tiny_run() {
    const std::string run = path("run");
    std::filesystem::copy(kTinyRun, run, std::filesystem::copy_options::recursive);
    return run;
  }
};

TEST_F(ReportTest, TinyRunHasAChartPerGroupTheEvalTableAndNoNetwork) {
  const std::string html = render_report(kTinyRun);
  expect_offline(html);
  expect_finite_svgs(html);
  EXPECT_EQ(html.find("class=\"notes\""), std::string::npos) << "a clean run has no notes";
  // The rl (grpo) stage's groups and the base (pretrain) stage's.
  for (const char* title : {"Reward and its components", "Accuracy", "KL divergence to the reference", "Entropy",
                            "Completion length", "Clip fractions and truncation", "Zero-variance groups and collapse",
                            "Loss", "Learning rate", "Throughput", "Step time", "Gradient norm"}) {
    EXPECT_NE(html.find("<title>" + std::string(title) + "</title>"), std::string::npos) << title;
  }
  EXPECT_GE(count(html, "<svg"), 20u);
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  EXPECT_NE(html.find(">reward/math/correct<"), std::string::npos) << "reward components in the legend";
  // The evaluate stage's table: both models, the better one marked.
  EXPECT_NE(html.find("stages/eval/eval.json"), std::string::npos);
  EXPECT_NE(html.find("<table class=\"grid eval\">"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"best\"><td>r1_zero</td><td class=\"num\">81.0%</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>base</td><td class=\"num\">0.0%</td>"), std::string::npos);
  // Samples: per step, with escaped text (the prompts hold <think> tags).
  EXPECT_NE(html.find("<details class=\"step\"><summary>step 45 · 4 completions"), std::string::npos);
  EXPECT_NE(html.find("&lt;think&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<think>"), std::string::npos);
  // The recipe, collapsed.
  EXPECT_NE(html.find("<details><summary>recipe.resolved.json</summary>"), std::string::npos);
}

TEST_F(ReportTest, SampleTextIsEscaped) {
  const std::string run = copy_tiny_run();
  append(run + "/samples.jsonl",
         R"({"stage":"rl","step":50,"prompt":"<script>alert('x')</script> & \"q\"","completion":"</pre><b>\u0001",)"
         R"("reward":1.5,"components":{"math":1}})" "\n");
  const std::string html = render_report(run);
  expect_offline(html);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"), std::string::npos);
  EXPECT_NE(html.find("&lt;/pre&gt;&lt;b&gt;\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("step 50 · 1 completions · mean reward 1.5"), std::string::npos);
}

TEST_F(ReportTest, KilledRunGivesNotesNamingFileAndLine) {
  const std::string run = copy_tiny_run();
  const std::string metrics = run + "/metrics.jsonl";  // 22 good lines
  append(metrics, "this is not json\n");                                   // 23
  append(metrics, "[1, 2]\n");                                             // 24
  append(metrics, R"({"step":3,"loss":1.0})" "\n");                        // 25
  append(metrics, R"({"stage":"rl","step":46,"kl":null,"entropy":NaN,"reward":"high","loss":0.5})" "\n");  // 26
  append(metrics, R"({"stage":"rl","step":47,"loss":0.)");                 // 27, torn
  append(run + "/samples.jsonl", R"({"stage":"rl","step":45,"prompt":"a)");
  std::string html;
  ASSERT_NO_THROW(html = render_report(run));
  expect_offline(html);
  expect_finite_svgs(html);
  EXPECT_NE(html.find("class=\"notes\""), std::string::npos);
  EXPECT_NE(html.find("metrics.jsonl:23: not JSON, skipped"), std::string::npos);
  EXPECT_NE(html.find("metrics.jsonl:24: a JSON array, not an object, skipped"), std::string::npos);
  EXPECT_NE(html.find("metrics.jsonl:25: no &quot;stage&quot;"), std::string::npos);
  EXPECT_NE(html.find("metrics.jsonl:26: &#39;kl&#39; is not finite"), std::string::npos);
  EXPECT_NE(html.find("metrics.jsonl:26: &#39;entropy&#39; is not finite"), std::string::npos);
  EXPECT_NE(html.find("metrics.jsonl:26: &#39;reward&#39; is a string, not a number"), std::string::npos);
  EXPECT_NE(html.find("metrics.jsonl:27: torn last line"), std::string::npos);
  EXPECT_NE(html.find("samples.jsonl:13: torn last line"), std::string::npos);
  // The readable lines are still charted (line 26's finite loss among them).
  EXPECT_NE(html.find("Loss"), std::string::npos);
  EXPECT_NE(html.find("loss at step 46: 0.5"), std::string::npos);
  EXPECT_NE(html.find("<table class=\"grid eval\">"), std::string::npos);
}

TEST_F(ReportTest, EmptyOrBrokenDirectoryGivesNotesNotACrash) {
  std::filesystem::create_directories(path("empty"));
  const std::string html = render_report(path("empty"));
  EXPECT_NE(html.find("recipe.resolved.json: missing"), std::string::npos);
  EXPECT_NE(html.find("metrics.jsonl: missing"), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), 0u);

  std::filesystem::create_directories(path("broken/stages/eval"));
  file("broken/recipe.resolved.json", "{\"name\": \"x\", \"stages\": [");
  file("broken/state.json", "[]");
  file("broken/stages/eval/eval.json", "{\"models\": ");
  file("broken/metrics.jsonl", "\n\n{\"stage\":\"eval/m\",\"step\":0,\"accuracy\":0.5}\n");
  const std::string broken = render_report(path("broken"));
  EXPECT_NE(broken.find("recipe.resolved.json:1:"), std::string::npos);
  EXPECT_NE(broken.find("stages/eval/eval.json:1:"), std::string::npos);
  expect_finite_svgs(broken);

  EXPECT_THROW(render_report(path("missing")), Error);
  file("plain_file", "x");
  EXPECT_THROW(render_report(path("plain_file")), Error);
}

TEST_F(ReportTest, EvalTableFromMetricsWhenEvalJsonIsMissing) {
  const std::string run = copy_tiny_run();
  std::filesystem::remove(run + "/stages/eval/eval.json");
  const std::string html = render_report(run);
  EXPECT_NE(html.find("eval.json is missing"), std::string::npos);
  EXPECT_NE(html.find("<td>r1_zero</td><td class=\"num\">81.0%</td>"), std::string::npos);
}

// The evaluate stage's language and rm_score columns: 3 decimals / the raw score, n/a where a column was off
// (null in eval.json, absent from the metrics lines).
TEST_F(ReportTest, EvalTableShowsLanguageAndRmScore) {
  const std::string run = copy_tiny_run();
  file("run/stages/eval/eval.json", R"({"prompts": 4, "models": {
      "base": {"accuracy": 0.5, "format_rate": 0.25, "reward": 0.75, "language": null, "rm_score": null},
      "r1": {"accuracy": 0.25, "format_rate": 1.0, "reward": 1.25, "language": 0.98765, "rm_score": -0.3125}}})");
  std::string html = render_report(run);
  EXPECT_NE(html.find("<th>reward</th><th>language</th><th>rm score</th>"), std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0.75</td><td class=\"num\">n/a</td><td class=\"num\">n/a</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">1.25</td><td class=\"num\">0.988</td><td class=\"num\">-0.3125</td>"),
            std::string::npos);
  std::filesystem::remove(run + "/stages/eval/eval.json");
  append(run + "/metrics.jsonl",
         R"({"stage":"eval/r1_zero","step":0,"accuracy":0.81,"reward":1.81,"language":0.5,"rm_score":2.5})" "\n");
  html = render_report(run);
  EXPECT_NE(html.find("<td class=\"num\">1.81</td><td class=\"num\">0.500</td><td class=\"num\">2.5</td>"),
            std::string::npos);
  EXPECT_NE(html.find("<td class=\"num\">0</td><td class=\"num\">n/a</td><td class=\"num\">n/a</td>"),
            std::string::npos);  // base's lines have neither
}

TEST_F(ReportTest, RejectionSamplingAndRewardModelFilesBecomeTables) {
  std::filesystem::create_directories(path("run/stages/rs"));
  std::filesystem::create_directories(path("run/stages/rm"));
  file("run/recipe.resolved.json", R"({"name": "rs_rm", "stages": [{"name": "rs", "type": "rejection_sampling"},
      {"name": "rm", "type": "reward_model"}]})");
  file("run/state.json", R"({"completed": {"rs": "stages/rs"}})");
  file("run/stages/rs/stats.json", R"({"sources": {"math": {"kind": "reasoning", "samples": 64, "kept": 40,
      "written": 38}, "qa<x>": {"kind": "non_reasoning", "samples": 8, "kept": 8, "written": 8}},
      "kinds": {"reasoning": 38}, "written": 46, "samples_per_s": 12.5})");
  file("run/stages/rm/eval.json", R"({"mode": "pairwise", "rows": 20, "step": 30, "loss": 0.41,
      "accuracy": 0.85, "margin_mean": 1.25})");
  file("run/metrics.jsonl", R"({"stage":"rm","step":10,"loss":0.6,"accuracy":0.6,"eval/loss":0.65,"eval/accuracy":0.55,"eval/margin_mean":0.2})"
                            "\n"
                            R"({"stage":"rm","step":20,"loss":0.5,"accuracy":0.7,"eval/loss":0.5,"eval/accuracy":0.8,"eval/margin_mean":0.9})"
                            "\n");
  const std::string html = render_report(path("run"));
  expect_offline(html);
  EXPECT_NE(html.find("stages/rs/stats.json"), std::string::npos);
  EXPECT_NE(html.find("<th>qa&lt;x&gt;</th><td>non_reasoning</td><td class=\"num\">8</td>"), std::string::npos);
  EXPECT_NE(html.find("<th>samples_per_s</th><td class=\"num\">12.5</td>"), std::string::npos);
  EXPECT_NE(html.find("stages/rm/eval.json"), std::string::npos);
  EXPECT_NE(html.find("<th>accuracy</th><td class=\"num\">0.85</td>"), std::string::npos);
  EXPECT_NE(html.find("<title>Held-out evaluation (eval/*)</title>"), std::string::npos);
  EXPECT_NE(html.find("eval/accuracy"), std::string::npos);
}

TEST_F(ReportTest, WriteReportDefaultsToTheRunDirectory) {
  const std::string run = copy_tiny_run();
  EXPECT_EQ(write_report(run), run + "/report.html");
  EXPECT_TRUE(path_exists(run + "/report.html"));
  EXPECT_EQ(write_report(run, path("elsewhere.html")), path("elsewhere.html"));
  EXPECT_EQ(read_file(path("elsewhere.html")), read_file(run + "/report.html"));
}

}  // namespace
}  // namespace r1::rl::report
