// Which metrics of a stage share a chart in the run report, and the unit of each chart: reward and its
// components, accuracy (overall and per source), KL, entropy, completion lengths, clip fractions, zero-variance
// groups and collapse signals, loss, held-out eval/*, learning rate, throughput, step time, gradient norm.
// These are the main charts; the remaining metrics (MoE load, importance ratios, counters, reward standard
// deviations, ...) are grouped by family or charted one by one as secondary charts.
#pragma once

#include <string>
#include <vector>

namespace r1::rl::report {

struct MetricGroup {
  std::string title;
  std::string unit;               // y-axis unit, "" when unknown
  std::vector<std::string> keys;  // in the order the stage logged them
  bool main = true;               // false: shown among the "more metrics" of the stage
};

// Groups a stage's metric keys (in logged order). Every key lands in exactly one group; groups come in a
// fixed order (main groups first), empty ones are left out.
std::vector<MetricGroup> group_metrics(const std::vector<std::string>& keys);

}  // namespace r1::rl::report
