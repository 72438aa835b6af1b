// See evaluate.h.
#include "rl/stages/evaluate.h"

#include <ATen/Parallel.h>

#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "common/interrupt.h"
#include "common/jsonl.h"
#include "common/progress.h"

namespace r1::rl {
namespace {

struct ModelReport {
  std::string name, path;
  double accuracy = NAN, format_rate = NAN, reward = 0, len_mean = 0, truncation = 0;
  int64_t completions = 0;
};

std::vector<std::pair<std::string, std::string>> model_list(const RawJson& raw, const std::string& where) {
  json::Document doc = json::parse(raw.text, where + ": models");
  R1_CHECK(doc.IsObject() && doc.MemberCount() > 0, where, ": models must be a non-empty object name -> path");
  std::vector<std::pair<std::string, std::string>> out;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    R1_CHECK(it->value.IsString(), where, ": models.", it->name.GetString(), ": expected a path string");
    out.emplace_back(it->name.GetString(), it->value.GetString());
  }
  return out;
}

ModelReport evaluate_model(const EvalConfig& c, StageContext& ctx, const std::string& name, const std::string& path,
                           const std::vector<data::PromptExample>& examples, const rewards::Reward& reward,
                           ThreadPool& pool) {
  ModelSource source;
  source.path = path;
  source.device = c.device;
  Policy policy = load_policy(source, ctx, ctx.spec.where + ": models." + name);
  PromptRenderer renderer(c.data, *policy.tokenizer, ctx.spec.where);
  ModelReport rep;
  rep.name = name;
  rep.path = ctx.resolve_ref(path);
  JsonlWriter out(path_join(ctx.dir, "completions-" + name + ".jsonl"), /*append=*/false);
  double acc_sum = 0, fmt_sum = 0;
  int64_t acc_n = 0, fmt_n = 0;
  ProgressBar bar(ctx.spec.name + " " + name, examples.size(), ctx.quiet);
  for (size_t p0 = 0; p0 < examples.size(); p0 += static_cast<size_t>(c.batch_prompts)) {
    if (interrupt_requested()) {
      throw Interrupted(str_cat("stage '", ctx.spec.name, "' stopped while evaluating '", name,
                                "' (an evaluation keeps no checkpoints: it starts again)"),
                        interrupt_signal());
    }
    std::vector<const data::PromptExample*> prompts;
    for (size_t i = p0; i < std::min(examples.size(), p0 + static_cast<size_t>(c.batch_prompts)); ++i) {
      prompts.push_back(&examples[i]);
    }
    // A model-independent seed per batch: every model sees the same sampling noise.
    Rollout r = generate_rollout(policy, renderer, prompts, c.samples_per_prompt, c.sampling, ctx.seed + p0);
    score_rollout(r, reward, &pool);
    for (const auto& comp : r.completions) {
      ++rep.completions;
      rep.reward += comp.score.value;
      rep.len_mean += static_cast<double>(comp.generation.tokens.size());
      rep.truncation += comp.generation.truncated();
      if (auto correct = correctness(comp.score)) {
        acc_sum += *correct;
        ++acc_n;
      }
      for (const auto& [k, v] : comp.score.components) {
        if (k == c.format_component) {
          fmt_sum += v;
          ++fmt_n;
        }
      }
      json::Document line(rapidjson::kObjectType);
      auto& a = line.GetAllocator();
      line.AddMember("question", json::Value(r.prompts[comp.prompt_index]->question.c_str(), a), a);
      if (const json::Value* gold = json::find(*r.prompts[comp.prompt_index]->row, "answer")) {
        line.AddMember("answer", json::Value(*gold, a), a);
      }
      line.AddMember("completion", json::Value(comp.text.c_str(), a), a);
      line.AddMember("reward", json::Value(comp.score.value), a);
      json::Value comps(rapidjson::kObjectType);
      for (const auto& [k, v] : comp.score.components) comps.AddMember(json::Value(k.c_str(), a), json::Value(v), a);
      line.AddMember("components", comps, a);
      line.AddMember("finish", json::Value(model::finish_reason_name(comp.generation.finish), a), a);
      out.write_line(line);
    }
    bar.update(std::min(examples.size(), p0 + prompts.size()));
  }
  bar.finish();
  const double n = std::max<double>(1.0, static_cast<double>(rep.completions));
  rep.reward /= n;
  rep.len_mean /= n;
  rep.truncation /= n;
  if (acc_n > 0) rep.accuracy = acc_sum / acc_n;
  if (fmt_n > 0) rep.format_rate = fmt_sum / fmt_n;
  return rep;
}

std::string percent(double x) {
  if (!std::isfinite(x)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f%%", 100.0 * x);
  return buf;
}

std::string run_evaluate(const EvalConfig& c, StageContext& ctx) {
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  const auto models = model_list(c.models, ctx.spec.where);
  const std::vector<data::PromptExample> examples = c.data.load(ctx);
  const rewards::RewardPtr reward = make_reward(c.reward, ctx, ctx.spec.where);
  ThreadPool pool(c.reward_threads > 0 ? static_cast<size_t>(c.reward_threads) : 0);
  std::vector<ModelReport> reports;
  for (const auto& [name, path] : models) {
    reports.push_back(evaluate_model(c, ctx, name, path, examples, *reward, pool));
  }

  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("prompts", json::Value(static_cast<int64_t>(examples.size())), a);
  doc.AddMember("samples_per_prompt", json::Value(c.samples_per_prompt), a);
  doc.AddMember("temperature", json::Value(c.sampling.temperature), a);
  json::Value list(rapidjson::kObjectType);
  auto num = [](double x) { return std::isfinite(x) ? json::Value(x) : json::Value(rapidjson::kNullType); };
  for (const auto& r : reports) {
    json::Value m(rapidjson::kObjectType);
    m.AddMember("path", json::Value(r.path.c_str(), a), a);
    m.AddMember("accuracy", num(r.accuracy), a);
    m.AddMember("format_rate", num(r.format_rate), a);
    m.AddMember("reward", num(r.reward), a);
    m.AddMember("completion_len_mean", num(r.len_mean), a);
    m.AddMember("truncation_rate", num(r.truncation), a);
    m.AddMember("completions", json::Value(r.completions), a);
    list.AddMember(json::Value(r.name.c_str(), a), m, a);
  }
  doc.AddMember("models", list, a);
  write_file_atomic(path_join(ctx.dir, "eval.json"), json::dump(doc, true) + "\n");

  std::printf("\n%s: %zu held-out prompts x %ld sample(s), temperature %g\n", ctx.spec.name.c_str(), examples.size(),
              static_cast<long>(c.samples_per_prompt), c.sampling.temperature);
  std::printf("  %-16s %10s %12s %9s %10s %10s\n", "model", "accuracy", "format rate", "reward", "length", "truncated");
  for (const auto& r : reports) {
    std::printf("  %-16s %10s %12s %9.3f %10.1f %10s\n", r.name.c_str(), percent(r.accuracy).c_str(),
                percent(r.format_rate).c_str(), r.reward, r.len_mean, percent(r.truncation).c_str());
  }
  std::fflush(stdout);
  for (const auto& r : reports) {
    Metrics m;
    if (std::isfinite(r.accuracy)) m.set("accuracy", r.accuracy);
    if (std::isfinite(r.format_rate)) m.set("format_rate", r.format_rate);
    m.set("reward", r.reward);
    m.set("completion_len_mean", r.len_mean);
    m.set("truncation_rate", r.truncation);
    ctx.run.log_metrics(ctx.spec.name + "/" + r.name, 0, m);
  }
  return ctx.dir;
}

}  // namespace

void EvalConfig::validate(const std::string& where) const {
  R1_CHECK(!models.empty(), where, ": 'models' is required (object: name -> model directory or stage:NAME)");
  data.validate(where);
  device_from_name(device, where + ": device");
  for (const auto& [name, path] : model_list(models, where)) {
    if (data.chat_template.empty()) continue;
    ModelSource source;
    source.path = path;
    check_chat_template(data.chat_template, source, where + ": models." + name + ": data");
  }
  check_format_reward_matches_prompt(data, reward, where);
  sampling.validate(where + ": sampling");
  R1_CHECK(!reward.empty(), where, ": 'reward' is required");
  R1_CHECK(samples_per_prompt > 0 && batch_prompts > 0, where, ": samples_per_prompt and batch_prompts must be > 0");
}

std::unique_ptr<Stage> make_evaluate_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<EvalConfig>>(spec, run_evaluate);
}

}  // namespace r1::rl
