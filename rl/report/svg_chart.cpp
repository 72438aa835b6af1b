// See svg_chart.h. Layout: title on top, the plot area on the left with y ticks (and the unit, rotated)
// on its left and x ticks (and "step") below, the legend in a column on the right; the SVG grows downwards
// when the legend is taller than the plot.
#include "rl/report/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "rl/report/html.h"

namespace r1::rl::report {
namespace {

constexpr double kLeft = 72, kPlotW = 430, kTop = 36, kPlotH = 210, kBottom = 46;
constexpr double kLegendX = kLeft + kPlotW + 24, kLegendRow = 18, kWidth = 780;
constexpr size_t kMaxPoints = 1500;    // per series; more are thinned to every k-th point
constexpr size_t kMaxMarkers = 60;     // series with at most this many points get a dot (and tooltip) per point
constexpr size_t kLegendChars = 28;

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
constexpr size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

// The range of the data over all series (finite points only; the reader never passes others).
bool data_range(const Chart& c, double& x0, double& x1, double& y0, double& y1) {
  bool any = false;
  for (const auto& s : c.series) {
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      if (!any) {
        x0 = x1 = x;
        y0 = y1 = y;
        any = true;
      }
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  return any;
}

// The series' points sorted by step, finite only, thinned to at most kMaxPoints (the last point kept).
std::vector<std::pair<double, double>> drawable(const ChartSeries& s, size_t& stride) {
  std::vector<std::pair<double, double>> pts;
  for (const auto& p : s.points) {
    if (std::isfinite(p.first) && std::isfinite(p.second)) pts.push_back(p);
  }
  std::stable_sort(pts.begin(), pts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  stride = std::max<size_t>(1, (pts.size() + kMaxPoints - 1) / kMaxPoints);
  if (stride == 1) return pts;
  std::vector<std::pair<double, double>> thin;
  for (size_t i = 0; i < pts.size(); i += stride) thin.push_back(pts[i]);
  if (thin.back() != pts.back()) thin.push_back(pts.back());
  return thin;
}

struct Frame {
  Ticks xt, yt;
  double px(double x) const { return kLeft + (x - xt.lo) / (xt.hi - xt.lo) * kPlotW; }
  double py(double y) const { return kTop + kPlotH - (y - yt.lo) / (yt.hi - yt.lo) * kPlotH; }
};

void draw_axes(const Chart& c, const Frame& f, std::string& out) {
  out += "<rect x=\"" + num(kLeft) + "\" y=\"" + num(kTop) + "\" width=\"" + num(kPlotW) + "\" height=\"" +
         num(kPlotH) + "\" fill=\"#fff\" stroke=\"#999\"/>\n";
  for (double v : f.yt.values) {
    const std::string y = num(f.py(v));
    out += "<line x1=\"" + num(kLeft) + "\" x2=\"" + num(kLeft + kPlotW) + "\" y1=\"" + y + "\" y2=\"" + y +
           "\" stroke=\"#e4e4e4\"/>\n";
    out += "<text x=\"" + num(kLeft - 6) + "\" y=\"" + y + "\" dy=\"4\" text-anchor=\"end\" class=\"tick\">" +
           html_escape(format_tick(v, f.yt.step)) + "</text>\n";
  }
  for (double v : f.xt.values) {
    const std::string x = num(f.px(v));
    out += "<line x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + num(kTop) + "\" y2=\"" + num(kTop + kPlotH) +
           "\" stroke=\"#f0f0f0\"/>\n";
    out += "<text x=\"" + x + "\" y=\"" + num(kTop + kPlotH + 16) + "\" text-anchor=\"middle\" class=\"tick\">" +
           html_escape(format_tick(v, f.xt.step)) + "</text>\n";
  }
  out += "<text x=\"" + num(kLeft + kPlotW / 2) + "\" y=\"" + num(kTop + kPlotH + 36) +
         "\" text-anchor=\"middle\" class=\"axis\">" + html_escape(c.x_label) + "</text>\n";
  if (!c.y_unit.empty()) {
    const std::string cy = num(kTop + kPlotH / 2);
    out += "<text x=\"16\" y=\"" + cy + "\" transform=\"rotate(-90 16 " + cy +
           ")\" text-anchor=\"middle\" class=\"axis\">" + html_escape(c.y_unit) + "</text>\n";
  }
}

// One series: a polyline (when it has two points or more) and, for short series, a dot per point with a
// tooltip; its legend row on the right.
void draw_series(const ChartSeries& s, size_t index, const Frame& f, std::string& out, size_t& stride) {
  const std::string color = kPalette[index % kPaletteSize];
  const std::string dash = index >= kPaletteSize ? " stroke-dasharray=\"5 3\"" : "";
  const auto pts = drawable(s, stride);
  const std::string name = html_escape(s.name);
  out += "<g><title>" + name + "</title>\n";
  if (pts.size() >= 2) {
    out += "<polyline fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.6\"" + dash + " points=\"";
    for (const auto& [x, y] : pts) out += num(f.px(x)) + "," + num(f.py(y)) + " ";
    out += "\"/>\n";
  }
  if (pts.size() <= kMaxMarkers) {
    for (const auto& [x, y] : pts) {
      out += "<circle cx=\"" + num(f.px(x)) + "\" cy=\"" + num(f.py(y)) + "\" r=\"" + (pts.size() == 1 ? "4" : "2.5") +
             "\" fill=\"" + color + "\"><title>" + name + " at step " + html_escape(format_number(x)) + ": " +
             html_escape(format_number(y)) + "</title></circle>\n";
    }
  }
  out += "</g>\n";
  const double ly = kTop + 8 + kLegendRow * static_cast<double>(index);
  out += "<line x1=\"" + num(kLegendX) + "\" x2=\"" + num(kLegendX + 18) + "\" y1=\"" + num(ly) + "\" y2=\"" +
         num(ly) + "\" stroke=\"" + color + "\" stroke-width=\"3\"" + dash + "/>\n";
  out += "<text x=\"" + num(kLegendX + 24) + "\" y=\"" + num(ly) + "\" dy=\"4\" class=\"legend\"><title>" + name +
         "</title>" + html_escape(clip_text(s.name, kLegendChars)) + "</text>\n";
}

}  // namespace

Ticks nice_ticks(double lo, double hi, int target, bool integer_steps) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi < lo) std::swap(lo, hi);
  lo = std::clamp(lo, -1e300, 1e300), hi = std::clamp(hi, -1e300, 1e300);  // keeps hi - lo finite
  const double scale = std::max({1e-300, std::fabs(lo), std::fabs(hi)});
  if (hi - lo <= 1e-12 * scale) {  // one value: a range around it
    const double pad = integer_steps ? 1.0 : (lo == 0 ? 1.0 : std::fabs(lo) * 0.1);
    lo -= pad, hi += pad;
  }
  double rough = (hi - lo) / std::max(1, target);
  const double mag = std::pow(10.0, std::floor(std::log10(rough)));
  const double norm = rough / mag;
  double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  if (integer_steps) step = std::max(1.0, std::round(step));
  Ticks t;
  t.step = step;
  t.lo = std::floor(lo / step) * step;
  t.hi = std::ceil(hi / step) * step;
  if (!(t.hi > t.lo)) t.hi = t.lo + step;
  for (int i = 0; i <= 60; ++i) {
    const double v = t.lo + i * step;
    if (v > t.hi + step * 1e-9) break;
    t.values.push_back(std::fabs(v) < step * 1e-9 ? 0.0 : v);
  }
  return t;
}

std::string format_tick(double v, double step) {
  if (v == 0 || !std::isfinite(v)) return std::isfinite(v) ? "0" : "n/a";
  char buf[48];
  const double a = std::fabs(v);
  if (a >= 1e6 || step < 1e-4) {
    std::snprintf(buf, sizeof(buf), "%.3g", v);
  } else {
    const int decimals = std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9)));
    std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  }
  return buf;
}

std::string render_svg_chart(const Chart& c) {
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  const bool any = data_range(c, x0, x1, y0, y1);
  Frame f{nice_ticks(x0, x1, 6, true), nice_ticks(y0, y1, 5, false)};
  const double height =
      std::max(kTop + kPlotH + kBottom, kTop + 16 + kLegendRow * static_cast<double>(c.series.size()));
  std::string out = "<svg class=\"chart\" role=\"img\" width=\"" + num(kWidth) + "\" height=\"" + num(height) +
                    "\" viewBox=\"0 0 " + num(kWidth) + " " + num(height) + "\">\n";
  out += "<title>" + html_escape(c.title) + "</title>\n";
  out += "<text x=\"" + num(kLeft) + "\" y=\"22\" class=\"title\">" + html_escape(c.title) + "</text>\n";
  draw_axes(c, f, out);
  size_t max_stride = 1;
  for (size_t i = 0; i < c.series.size(); ++i) {
    size_t stride = 1;
    draw_series(c.series[i], i, f, out, stride);
    max_stride = std::max(max_stride, stride);
  }
  if (!any) {
    out += "<text x=\"" + num(kLeft + kPlotW / 2) + "\" y=\"" + num(kTop + kPlotH / 2) +
           "\" text-anchor=\"middle\" class=\"axis\">no finite values</text>\n";
  }
  if (max_stride > 1) {
    out += "<text x=\"" + num(kLeft + kPlotW) + "\" y=\"22\" text-anchor=\"end\" class=\"tick\">every " +
           std::to_string(max_stride) + "th point drawn</text>\n";
  }
  out += "</svg>\n";
  return out;
}

}  // namespace r1::rl::report
