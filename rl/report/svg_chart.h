// Line charts as inline SVG for the run report: one chart is a few named series of (step, value) points
// drawn over the same axes, with tick labels chosen on the 1-2-5 grid, a y-axis unit, grid lines and a
// legend beside the plot; points carry <title> tooltips (no scripts). Only finite values reach the chart
// (the reader drops the rest), and degenerate ranges (one point, a constant series) get a padded axis, so
// the SVG never holds NaN or infinite coordinates.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace r1::rl::report {

struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (step, value); any order
};

struct Chart {
  std::string title;
  std::string y_unit;           // "" when unknown
  std::string x_label = "step";
  std::vector<ChartSeries> series;
};

// Axis ticks: [lo, hi] covers the data range, ticks every `step` from lo to hi.
struct Ticks {
  double lo = 0, hi = 1, step = 1;
  std::vector<double> values;
};

// About `target` ticks on the 1-2-5 grid covering [lo, hi]; integer_steps keeps the step ≥ 1 (steps on the
// x axis). An empty or non-finite range becomes a small range around the value (or [0, 1]).
Ticks nice_ticks(double lo, double hi, int target, bool integer_steps);

// A tick label with as many decimals as the tick step needs ("0.25", "4000", "3e-05").
std::string format_tick(double v, double step);

// The chart as an <svg> element (no xmlns needed inline in HTML5, and none written: the page holds no URL).
std::string render_svg_chart(const Chart& chart);

}  // namespace r1::rl::report
