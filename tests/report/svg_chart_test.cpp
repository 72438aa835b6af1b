// The report's SVG charts and metric groups (rl/report/svg_chart.h, metric_groups.h): ticks on the 1-2-5 grid
// that cover the data, sane axes for a constant series, a single point or no point at all (no NaN or
// infinity in the SVG), readable tick labels, and every metric key in exactly one group.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "rl/report/html.h"
#include "rl/report/metric_groups.h"
#include "rl/report/svg_chart.h"

namespace r1::rl::report {
namespace {

bool has_non_finite(const std::string& svg) {
  return std::regex_search(svg, std::regex(R"([="\s,-](nan|inf)\b)", std::regex::icase));
}

void expect_sane(const Ticks& t, double lo, double hi) {
  EXPECT_TRUE(std::isfinite(t.lo) && std::isfinite(t.hi) && std::isfinite(t.step));
  EXPECT_GT(t.hi, t.lo);
  EXPECT_GT(t.step, 0);
  EXPECT_LE(t.lo, lo);
  EXPECT_GE(t.hi, hi);
  ASSERT_GE(t.values.size(), 2u);
  EXPECT_LE(t.values.size(), 12u);
  EXPECT_DOUBLE_EQ(t.values.front(), t.lo);
  EXPECT_NEAR(t.values.back(), t.hi, t.step * 1e-6);
}

TEST(NiceTicks, CoverTheDataOnTheOneTwoFiveGrid) {
  Ticks t = nice_ticks(0.03, 0.97, 5, false);
  expect_sane(t, 0.03, 0.97);
  EXPECT_DOUBLE_EQ(t.step, 0.2);
  t = nice_ticks(4311, 4736, 5, false);
  expect_sane(t, 4311, 4736);
  EXPECT_DOUBLE_EQ(t.step, 100);
  t = nice_ticks(-0.0147, 0.0021, 5, false);
  expect_sane(t, -0.0147, 0.0021);
  t = nice_ticks(1, 45, 6, true);
  expect_sane(t, 1, 45);
  EXPECT_DOUBLE_EQ(t.step, 10);
}

TEST(NiceTicks, ConstantSeriesAndSinglePointsGetARange) {
  for (double v : {0.0, 1.0, -3.5, 0.00015, 1e9}) {
    const Ticks t = nice_ticks(v, v, 5, false);
    expect_sane(t, v, v);
    EXPECT_LT(t.lo, v);
    EXPECT_GT(t.hi, v);
  }
  const Ticks x = nice_ticks(7, 7, 6, true);  // one logged step
  expect_sane(x, 7, 7);
  EXPECT_GE(x.step, 1.0);
  for (double v : x.values) EXPECT_EQ(v, std::round(v));
  const Ticks steps = nice_ticks(1, 3, 6, true);  // steps never get fractional ticks
  for (double v : steps.values) EXPECT_EQ(v, std::round(v));
  expect_sane(nice_ticks(NAN, INFINITY, 5, false), 0, 1);
  const Ticks huge = nice_ticks(-1e308, 1e308, 5, false);
  EXPECT_TRUE(std::isfinite(huge.lo) && std::isfinite(huge.hi) && std::isfinite(huge.step));
}

TEST(FormatTick, DecimalsFollowTheStep) {
  EXPECT_EQ(format_tick(0.25, 0.05), "0.25");
  EXPECT_EQ(format_tick(0.4, 0.2), "0.4");
  EXPECT_EQ(format_tick(4000, 1000), "4000");
  EXPECT_EQ(format_tick(20, 10), "20");
  EXPECT_EQ(format_tick(0.00025, 0.00005), "0.00025");
  EXPECT_EQ(format_tick(3e-6, 1e-6), "3e-06");
  EXPECT_EQ(format_tick(2.5e7, 5e6), "2.5e+07");
  EXPECT_EQ(format_tick(0, 0.1), "0");
}

TEST(SvgChart, DegenerateSeriesDrawWithoutNaN) {
  Chart c;
  c.title = "kl";
  c.y_unit = "nats/token";
  c.series = {{"single", {{5, 0.25}}}, {"constant", {{1, 2.0}, {2, 2.0}, {3, 2.0}}}};
  std::string svg = render_svg_chart(c);
  EXPECT_FALSE(has_non_finite(svg)) << svg;
  EXPECT_NE(svg.find("<circle"), std::string::npos);
  EXPECT_NE(svg.find("<polyline"), std::string::npos);
  EXPECT_NE(svg.find(">nats/token</text>"), std::string::npos);
  EXPECT_NE(svg.find(">step</text>"), std::string::npos);
  EXPECT_NE(svg.find(">single</text>"), std::string::npos);  // legend
  EXPECT_NE(svg.find(">constant</text>"), std::string::npos);

  c.series = {{"zeros", {{0, 0.0}}}};
  svg = render_svg_chart(c);
  EXPECT_FALSE(has_non_finite(svg)) << svg;

  c.series = {{"empty", {}}, {"not finite", {{1, NAN}, {2, INFINITY}}}};
  svg = render_svg_chart(c);
  EXPECT_FALSE(has_non_finite(svg)) << svg;
  EXPECT_NE(svg.find("no finite values"), std::string::npos);
}

TEST(SvgChart, LongSeriesAreThinnedAndTextIsEscaped) {
  Chart c;
  c.title = "a <b> & \"c\"";
  ChartSeries s{"x<y>", {}};
  for (int i = 0; i < 5000; ++i) s.points.emplace_back(i, std::sin(i * 0.01));
  c.series = {s};
  const std::string svg = render_svg_chart(c);
  EXPECT_FALSE(has_non_finite(svg));
  EXPECT_NE(svg.find("a &lt;b&gt; &amp; &quot;c&quot;"), std::string::npos);
  EXPECT_NE(svg.find("x&lt;y&gt;"), std::string::npos);
  EXPECT_NE(svg.find("every 4th point drawn"), std::string::npos);
  EXPECT_EQ(svg.find("<circle"), std::string::npos) << "no per-point dots on a long series";
  EXPECT_LT(svg.size(), 40000u);
  EXPECT_EQ(svg.find("http"), std::string::npos);
}

TEST(MetricGroups, EveryKeyInOneGroup) {
  const std::vector<std::string> keys = {
      "loss", "pg_loss", "kl", "clip_frac_low", "clip_frac_high", "entropy", "grad_norm", "lr", "reward",
      "reward_std", "reward/math", "reward/math_std", "reward/format/ok", "accuracy", "source/gsm8k/accuracy",
      "source/gsm8k/reward", "source/gsm8k/groups", "completion_len_mean", "completion_len_max", "truncation_rate",
      "zero_variance_groups", "collapse/distinct_completions", "rollout_tokens_per_s", "step_s", "time_rollout_s",
      "moe_load_max_over_mean", "ratio_mean", "eval/loss", "eval/accuracy", "eval/margin_mean", "mystery"};
  const auto groups = group_metrics(keys);
  std::map<std::string, std::string> where;
  for (const auto& g : groups) {
    EXPECT_FALSE(g.keys.empty());
    for (const auto& k : g.keys) {
      EXPECT_EQ(where.count(k), 0u) << k << " in two groups";
      where[k] = g.title;
    }
  }
  EXPECT_EQ(where.size(), keys.size());
  EXPECT_EQ(where["reward/format/ok"], "Reward and its components");
  EXPECT_EQ(where["reward/math_std"], "Reward standard deviation");
  EXPECT_EQ(where["source/gsm8k/accuracy"], "Accuracy");
  EXPECT_EQ(where["eval/accuracy"], "Accuracy");
  EXPECT_EQ(where["eval/loss"], "Loss");
  EXPECT_EQ(where["eval/margin_mean"], "Held-out evaluation (eval/*)");
  EXPECT_EQ(where["truncation_rate"], "Clip fractions and truncation");
  EXPECT_EQ(where["collapse/distinct_completions"], "Zero-variance groups and collapse");
  EXPECT_EQ(where["rollout_tokens_per_s"], "Throughput");
  EXPECT_EQ(where["time_rollout_s"], "Step time");
  EXPECT_EQ(where["mystery"], "mystery");
  EXPECT_TRUE(groups.front().main);
  EXPECT_FALSE(groups.back().main);
}

TEST(Html, EscapeAndClip) {
  EXPECT_EQ(html_escape("<a href='x'>&\"</a>"), "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;");
  EXPECT_EQ(html_escape(std::string("a\0b\n", 4)), "a\xEF\xBF\xBD" "b\n");
  EXPECT_EQ(clip_text("abc", 5), "abc");
  EXPECT_EQ(clip_text("h\xC3\xA9llo", 2), "h\xE2\x80\xA6 (5 more characters)");  // é is not split
  EXPECT_EQ(format_number(3), "3");
  EXPECT_EQ(format_number(0.123456), "0.1235");
  EXPECT_EQ(format_number(NAN), "n/a");
  EXPECT_EQ(format_percent(0.81), "81.0%");
}

}  // namespace
}  // namespace r1::rl::report
