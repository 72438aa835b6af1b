// See metric_groups.h. The rules are a table of (title, unit, main, predicate); a key goes to the first
// rule that takes it. The names are the ones the stages log (rl/grpo/report.cpp, rl/lm_trainer.cpp,
// rl/stages/*.cpp); a key no rule knows gets a chart of its own with a unit guessed from its suffix.
#include "rl/report/metric_groups.h"

#include <functional>
#include <map>

namespace r1::rl::report {
namespace {

bool starts(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }
bool ends(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
// source/<name>/<what>
bool per_source(const std::string& k, const char* what) { return starts(k, "source/") && ends(k, std::string("/") + what); }

struct Rule {
  const char* title;
  const char* unit;
  bool main;
  std::function<bool(const std::string&)> takes;
};

const std::vector<Rule>& rules() {
  static const std::vector<Rule> table = {
      {"Reward and its components", "reward", true,
       [](const std::string& k) {
         return (k == "reward" || starts(k, "reward/") || k == "reward_mean") && !ends(k, "_std");
       }},
      {"Reward per source", "reward", true, [](const std::string& k) { return per_source(k, "reward"); }},
      {"Accuracy", "fraction", true,
       [](const std::string& k) {
         return k == "accuracy" || k == "accuracy_sampled" || k == "format_rate" || k == "acceptance_rate" ||
                k == "eval/accuracy" || per_source(k, "accuracy");
       }},
      {"KL divergence to the reference", "nats/token", true, [](const std::string& k) { return k == "kl"; }},
      {"Entropy", "nats/token", true, [](const std::string& k) { return k == "entropy"; }},
      {"Completion length", "tokens", true,
       [](const std::string& k) { return starts(k, "completion_len_") || starts(k, "reply_len_"); }},
      {"Clip fractions and truncation", "fraction", true,
       [](const std::string& k) { return k.find("clip_frac") != std::string::npos || k == "truncation_rate"; }},
      {"Zero-variance groups and collapse", "fraction", true,
       [](const std::string& k) { return k == "zero_variance_groups" || starts(k, "collapse/"); }},
      {"Loss", "", true,
       [](const std::string& k) {
         return (k.find('/') == std::string::npos || starts(k, "eval/")) && (ends(k, "loss") || k == "ce");
       }},
      {"Held-out evaluation (eval/*)", "", true, [](const std::string& k) { return starts(k, "eval/"); }},
      {"Learning rate", "", true, [](const std::string& k) { return k == "lr"; }},
      {"Throughput", "tokens/s", true, [](const std::string& k) { return ends(k, "tokens_per_s"); }},
      {"Step time", "s", true, [](const std::string& k) { return ends(k, "_s") && !ends(k, "_per_s"); }},
      {"Gradient norm", "L2 norm", true, [](const std::string& k) { return k == "grad_norm"; }},
      {"Reward standard deviation", "reward", false,
       [](const std::string& k) { return starts(k, "reward") && ends(k, "_std"); }},
      {"MoE expert load (max and min over mean)", "ratio", false,
       [](const std::string& k) { return starts(k, "moe_load_"); }},
      {"Importance ratio", "ratio", false, [](const std::string& k) { return starts(k, "ratio_"); }},
      {"Rates", "per s", false, [](const std::string& k) { return ends(k, "_per_s"); }},
      {"Batch tokens", "tokens", false, [](const std::string& k) { return starts(k, "batch_") && ends(k, "tokens"); }},
      {"Groups per source", "groups", false, [](const std::string& k) { return per_source(k, "groups"); }},
  };
  return table;
}

std::string guess_unit(const std::string& k) {
  if (ends(k, "tokens")) return "tokens";
  if (ends(k, "_rate") || ends(k, "_frac")) return "fraction";
  return "";
}

}  // namespace

std::vector<MetricGroup> group_metrics(const std::vector<std::string>& keys) {
  const auto& table = rules();
  std::vector<MetricGroup> by_rule(table.size());
  std::vector<MetricGroup> single;
  for (const std::string& k : keys) {
    size_t r = 0;
    while (r < table.size() && !table[r].takes(k)) ++r;
    if (r < table.size()) {
      by_rule[r].keys.push_back(k);
    } else {
      single.push_back({k, guess_unit(k), {k}, false});
    }
  }
  std::vector<MetricGroup> out;
  for (size_t r = 0; r < table.size(); ++r) {
    if (by_rule[r].keys.empty()) continue;
    by_rule[r].title = table[r].title;
    by_rule[r].unit = table[r].unit;
    by_rule[r].main = table[r].main;
    out.push_back(std::move(by_rule[r]));
  }
  for (auto& g : single) out.push_back(std::move(g));
  return out;
}

}  // namespace r1::rl::report
