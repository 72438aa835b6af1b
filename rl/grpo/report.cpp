// See report.h.
#include "rl/grpo/report.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace r1::rl {
namespace {

// Mean and std of the total and of every component, over all kept completions of the step.
void add_component_metrics(const std::vector<const Completion*>& comps, Metrics& m) {
  std::vector<std::string> names = {"reward"};
  std::map<std::string, std::vector<double>> values;
  for (const auto* c : comps) {
    values["reward"].push_back(c->score.value);
    for (const auto& [k, v] : c->score.components) {
      if (!values.count("reward/" + k)) names.push_back("reward/" + k);
      values["reward/" + k].push_back(v);
    }
  }
  for (const auto& name : names) {
    const auto& v = values[name];
    double mean = 0, sq = 0;
    for (double x : v) mean += x;
    mean /= std::max<size_t>(1, v.size());
    for (double x : v) sq += (x - mean) * (x - mean);
    m.set(name, mean);
    m.set(name + "_std", std::sqrt(sq / std::max<size_t>(1, v.size())));
  }
}

// The accuracy over every completion sampled in the step (dynamic sampling keeps only mixed groups, so
// the kept groups' accuracy is biased toward 50%).
std::optional<double> sampled_accuracy(const StepGroups& groups) {
  double sum = 0;
  int64_t n = 0;
  for (const auto& r : groups.rollouts) {
    for (const auto& comp : r->completions) {
      if (auto correct = correctness(comp.score)) {
        sum += *correct;
        ++n;
      }
    }
  }
  return n > 0 ? std::optional<double>(sum / n) : std::nullopt;
}

// With named sources, per source over its kept groups: source/<name>/groups (0 when it had none, e.g.
// outside its steps), and when it had some source/<name>/reward and source/<name>/accuracy (when its reward
// has a correctness component), so that e.g. reasoning accuracy and a reward model's score show apart.
void add_source_metrics(const GrpoConfig& c, const StepGroups& groups, Metrics& m) {
  if (!c.named_sources()) return;
  const size_t n = c.parsed_sources.size();
  std::vector<double> reward(n, 0), correct(n, 0);
  std::vector<int64_t> group_count(n, 0), completions(n, 0), judged(n, 0);
  const size_t g_size = static_cast<size_t>(groups.group_size);
  for (size_t g = 0; g < groups.kept_source.size(); ++g) {
    const size_t src = groups.kept_source[g];
    ++group_count[src];
    for (size_t k = 0; k < g_size; ++k) {
      const rewards::Score& score = groups.kept[g * g_size + k]->score;
      reward[src] += score.value;
      ++completions[src];
      if (auto ok = correctness(score)) {
        correct[src] += *ok;
        ++judged[src];
      }
    }
  }
  for (size_t i = 0; i < n; ++i) {
    const std::string prefix = "source/" + c.parsed_sources[i].name + "/";
    m.set(prefix + "groups", static_cast<double>(group_count[i]));
    if (completions[i] > 0) m.set(prefix + "reward", reward[i] / static_cast<double>(completions[i]));
    if (judged[i] > 0) m.set(prefix + "accuracy", correct[i] / static_cast<double>(judged[i]));
  }
}

}  // namespace

void add_rollout_metrics(const GrpoConfig& c, const StepGroups& groups, Metrics& m) {
  add_component_metrics(groups.kept, m);
  add_source_metrics(c, groups, m);
  double acc_sum = 0, len_sum = 0, len_max = 0, trunc = 0;
  int64_t acc_n = 0;
  for (const auto* comp : groups.kept) {
    const double len = static_cast<double>(comp->generation.tokens.size());
    len_sum += len;
    len_max = std::max(len_max, len);
    trunc += comp->generation.truncated();
    if (auto correct = correctness(comp->score)) {
      acc_sum += *correct;
      ++acc_n;
    }
  }
  const double nk = std::max<double>(1.0, static_cast<double>(groups.kept.size()));
  if (acc_n > 0) m.set("accuracy", acc_sum / acc_n);
  m.set("completion_len_mean", len_sum / nk);
  m.set("completion_len_max", len_max);
  m.set("truncation_rate", trunc / nk);
  m.set("zero_variance_groups",
        groups.groups_seen > 0 ? static_cast<double>(groups.groups_zero_var) / groups.groups_seen : 0.0);
  if (c.dapo.dynamic_sampling) {
    m.set("groups_kept", static_cast<double>(groups.groups_kept));
    if (auto acc = sampled_accuracy(groups)) m.set("accuracy_sampled", *acc);
  }
  m.set("time_rollout_s", groups.generate_s);
  m.set("time_reward_s", groups.reward_s);
  m.set("rollout_tokens_per_s", groups.generate_s > 0 ? static_cast<double>(groups.sampled_tokens) / groups.generate_s : 0.0);
}

void log_step_samples(const GrpoConfig& c, const StepGroups& groups, const std::string& stage, int64_t step,
                      RunDir& run) {
  const int64_t kept = static_cast<int64_t>(groups.kept.size());
  const int64_t stride = std::max<int64_t>(1, kept / std::max<int64_t>(1, c.samples_per_log));
  for (int64_t i = 0; i < c.samples_per_log && i < kept; ++i) {
    const size_t index = static_cast<size_t>(i * stride);
    const Completion& comp = *groups.kept[index];
    const Rollout& owner = groups.owner(comp);
    json::Document s(rapidjson::kObjectType);
    auto& a = s.GetAllocator();
    s.AddMember("stage", json::Value(stage.c_str(), a), a);
    s.AddMember("step", json::Value(step), a);
    if (c.named_sources()) {
      const size_t group = index / static_cast<size_t>(groups.group_size);
      const std::string& name = c.parsed_sources[groups.kept_source[group]].name;
      s.AddMember("source", json::Value(name.c_str(), a), a);
    }
    s.AddMember("prompt", json::Value(owner.prompt_texts[comp.prompt_index].c_str(), a), a);
    s.AddMember("completion", json::Value(comp.text.c_str(), a), a);
    if (const json::Value* gold = json::find(*owner.prompts[comp.prompt_index]->row, "answer")) {
      s.AddMember("answer", json::Value(*gold, a), a);
    }
    s.AddMember("reward", json::Value(comp.score.value), a);
    json::Value comps(rapidjson::kObjectType);
    for (const auto& [k, v] : comp.score.components) comps.AddMember(json::Value(k.c_str(), a), json::Value(v), a);
    s.AddMember("components", comps, a);
    s.AddMember("reason", json::Value(comp.score.reason.c_str(), a), a);
    s.AddMember("finish", json::Value(model::finish_reason_name(comp.generation.finish), a), a);
    run.log_sample(s);
  }
}

}  // namespace r1::rl
