// The charts of one stage of the run report (report_parts.h): one SVG per metric group.
#include <string>

#include "rl/report/metric_groups.h"
#include "rl/report/report_parts.h"
#include "rl/report/svg_chart.h"

namespace r1::rl::report {

std::string render_stage_charts(const StageMetrics& metrics, size_t& charts) {
  std::string main_html, more_html;
  size_t more = 0;
  for (const MetricGroup& g : group_metrics(metrics.keys)) {
    Chart chart;
    chart.title = g.title;
    chart.y_unit = g.unit;
    for (const std::string& k : g.keys) {
      auto it = metrics.series.find(k);
      if (it != metrics.series.end()) chart.series.push_back({k, it->second.points});
    }
    const std::string svg = "<figure>" + render_svg_chart(chart) + "</figure>\n";
    ++charts;
    if (g.main) {
      main_html += svg;
    } else {
      more_html += svg;
      ++more;
    }
  }
  std::string out;
  if (!main_html.empty()) out += "<div class=\"charts\">\n" + main_html + "</div>\n";
  if (more > 0) {
    out += "<details class=\"more\"><summary>More metrics (" + std::to_string(more) +
           " charts)</summary>\n<div class=\"charts\">\n" + more_html + "</div>\n</details>\n";
  }
  return out;
}

}  // namespace r1::rl::report
