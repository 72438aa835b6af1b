// See evaluate.h.
#include "rl/stages/evaluate.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <map>

#include "common/error.h"
#include "common/fs.h"
#include "common/interrupt.h"
#include "common/jsonl.h"
#include "common/progress.h"
#include "rewards/options.h"
#include "rewards/registry.h"
#include "rl/grpo/rollout_share.h"
#include "rl/reward_model_reward.h"
#include "rl/run_rewards.h"

namespace r1::rl {
namespace {

// The object form of an entry of `models`.
struct ModelOverride {
  std::string model;
  RawJson data, reward, rm_data;

  template <class V>
  void visit(V& v) {
    v("model", model);
    v("data", data);
    v("reward", reward);
    v("rm_data", rm_data);
  }
};

// JSON null (an empty RawJson) and "" both mean "off".
bool is_off(const RawJson& raw) { return raw.empty() || raw.text == "\"\""; }

// `overlay` (JSON object text) read over `base`.
void read_overlay(const RawJson& overlay, const std::string& at, PromptData& base) {
  if (overlay.empty()) return;
  const json::Document doc = json::parse(overlay.text, at);
  ConfigReader::read_struct(doc, at, base);
}

// The prompt_template / chat_template keys of a "data" overlay (they also apply to the model's rm_data).
RawJson template_keys(const RawJson& overlay, const std::string& at) {
  if (overlay.empty()) return {};
  const json::Document doc = json::parse(overlay.text, at);
  if (!doc.IsObject()) return {};  // read_overlay reports it
  json::Document out(rapidjson::kObjectType);
  for (const char* key : {"prompt_template", "chat_template"}) {
    if (const json::Value* v = json::find(doc, key)) out.AddMember(json::Value(key, out.GetAllocator()),
                                                                    json::Value(*v, out.GetAllocator()),
                                                                    out.GetAllocator());
  }
  return out.MemberCount() > 0 ? RawJson{json::dump(out)} : RawJson{};
}

json::Value text_value(const std::string& s, json::Document::AllocatorType& a) {
  return json::Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

struct ModelReport {
  std::string name, path;
  double accuracy = NAN, format_rate = NAN, reward = 0, language = NAN, rm_score = NAN, len_mean = 0, truncation = 0;
  int64_t prompts = 0, completions = 0, rm_completions = 0;
};

// Generates `samples_per_prompt` completions for every example, batch_prompts prompts per generate call, scores
// each rollout with `score` and hands it to `use`. The seed of a batch is the stage seed plus its first prompt's
// index, so every model sees the same sampling noise. With several ranks each batch is sampled and scored in
// shares (rollout_share.h: the same completions as one process, each rank scoring its own) and only rank 0
// calls `use`: it writes everything.
void for_each_rollout(const EvalConfig& c, const SamplingConfig& sampling, int64_t samples_per_prompt, StageContext& ctx,
                      const Policy& policy, const PromptRenderer& renderer,
                      const std::vector<data::PromptExample>& examples, const std::string& label,
                      const std::function<void(Rollout&)>& score, const std::function<void(Rollout&)>& use) {
  ProgressBar bar(ctx.spec.name + " " + label, examples.size(), ctx.quiet);
  for (size_t p0 = 0; p0 < examples.size(); p0 += static_cast<size_t>(c.batch_prompts)) {
    if (interrupt_requested()) {
      throw Interrupted(str_cat("stage '", ctx.spec.name, "' stopped while evaluating '", label,
                                "' (an evaluation keeps no checkpoints: it starts again)"),
                        interrupt_signal());
    }
    std::vector<const data::PromptExample*> prompts;
    for (size_t i = p0; i < std::min(examples.size(), p0 + static_cast<size_t>(c.batch_prompts)); ++i) {
      prompts.push_back(&examples[i]);
    }
    const uint64_t seed = ctx.seed + p0;
    if (ctx.world.size() == 1) {
      Rollout r = generate_rollout(policy, renderer, prompts, samples_per_prompt, sampling, seed);
      score(r);
      use(r);
    } else {
      // Each rank samples and scores its share of the batch; rank 0 gets them all and alone writes.
      Rollout r = generate_shared_rollout(ctx.world, policy, renderer, prompts, samples_per_prompt, sampling, seed,
                                          score);
      if (ctx.run.writer()) use(r);
    }
    bar.update(std::min(examples.size(), p0 + prompts.size()));
  }
  bar.finish();
}

// The fields every completion line starts with: the question, the gold answer, the rendered prompt.
json::Document completion_line(const Rollout& r, const Completion& comp) {
  json::Document line(rapidjson::kObjectType);
  auto& a = line.GetAllocator();
  const data::PromptExample& ex = *r.prompts[comp.prompt_index];
  line.AddMember("question", text_value(ex.question, a), a);
  if (const json::Value* gold = json::find(*ex.row, "answer")) line.AddMember("answer", json::Value(*gold, a), a);
  line.AddMember("prompt", text_value(r.prompt_texts[comp.prompt_index], a), a);
  line.AddMember("completion", text_value(comp.text, a), a);
  return line;
}

struct EvalRewards {
  const rewards::Reward* reward = nullptr;
  const rewards::Reward* language = nullptr;  // null: the language column is off
  const rewards::Reward* rm = nullptr;        // null: the rm_score column is off
};

ModelReport evaluate_model(const EvalConfig& c, StageContext& ctx, const EvalModel& m,
                           const std::vector<data::PromptExample>& examples,
                           const std::vector<data::PromptExample>& rm_examples, const EvalRewards& rw,
                           ThreadPool& pool) {
  ModelSource source;
  source.path = m.path;
  source.device = c.device;
  const std::string where = ctx.spec.where + ": models." + m.name;
  Policy policy = load_policy(source, ctx, where);
  ModelReport rep;
  rep.name = m.name;
  rep.path = ctx.resolve_ref(m.path);
  rep.prompts = static_cast<int64_t>(examples.size());

  const PromptRenderer renderer(m.data, *policy.tokenizer, where);
  JsonlWriter out = ctx.run.writer() ? JsonlWriter(path_join(ctx.dir, "completions-" + m.name + ".jsonl"), false)
                                     : JsonlWriter();
  double acc_sum = 0, fmt_sum = 0, lang_sum = 0;
  int64_t acc_n = 0, fmt_n = 0;
  const auto score = [&](Rollout& r) { score_rollout(r, *rw.reward, &pool); };
  const auto write = [&](Rollout& r) {
    // The language share (cheap: word counts) on the whole rollout, its scores kept apart from the reward's.
    std::vector<double> language;
    if (rw.language != nullptr) {
      Rollout scored_by_language = r;
      score_rollout(scored_by_language, *rw.language, &pool);
      for (const auto& comp : scored_by_language.completions) language.push_back(comp.score.value);
    }
    for (size_t i = 0; i < r.completions.size(); ++i) {
      const Completion& comp = r.completions[i];
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
      json::Document line = completion_line(r, comp);
      auto& a = line.GetAllocator();
      line.AddMember("reward", json::Value(comp.score.value), a);
      json::Value comps(rapidjson::kObjectType);
      for (const auto& [k, v] : comp.score.components) comps.AddMember(text_value(k, a), json::Value(v), a);
      line.AddMember("components", comps, a);
      if (!language.empty()) {
        lang_sum += language[i];
        line.AddMember("language", json::Value(language[i]), a);
      }
      line.AddMember("finish", json::Value(model::finish_reason_name(comp.generation.finish), a), a);
      out.write_line(line);
    }
  };
  for_each_rollout(c, c.sampling, c.samples_per_prompt, ctx, policy, renderer, examples, m.name, score, write);
  const double n = std::max<double>(1.0, static_cast<double>(rep.completions));
  rep.reward /= n;
  rep.len_mean /= n;
  rep.truncation /= n;
  if (acc_n > 0) rep.accuracy = acc_sum / acc_n;
  if (fmt_n > 0) rep.format_rate = fmt_sum / fmt_n;
  if (rw.language != nullptr && rep.completions > 0) rep.language = lang_sum / static_cast<double>(rep.completions);

  if (rw.rm != nullptr) {
    // The rm_data prompts, rendered with this model's rm_data templates, scored by the reward model.
    const PromptRenderer rm_renderer(m.rm_data, *policy.tokenizer, where + ": rm_data");
    JsonlWriter rm_out = ctx.run.writer()
                             ? JsonlWriter(path_join(ctx.dir, "completions-" + m.name + "-rm.jsonl"), false)
                             : JsonlWriter();
    double rm_sum = 0;
    const auto rm_score = [&](Rollout& r) { score_rollout(r, *rw.rm, &pool); };
    for_each_rollout(c, c.rm_sampling(), c.rm_samples(), ctx, policy, rm_renderer, rm_examples, m.name + " (rm_data)",
                     rm_score, [&](Rollout& r) {
      for (const auto& comp : r.completions) {
        ++rep.rm_completions;
        rm_sum += comp.score.value;  // normalize none, clip 0: the raw score
        json::Document line = completion_line(r, comp);
        auto& a = line.GetAllocator();
        line.AddMember("rm_score", json::Value(comp.score.value), a);
        line.AddMember("finish", json::Value(model::finish_reason_name(comp.generation.finish), a), a);
        rm_out.write_line(line);
      }
    });
    if (rep.rm_completions > 0) rep.rm_score = rm_sum / static_cast<double>(rep.rm_completions);
  }
  return rep;
}

// A number for the table, "n/a" when the column is off: percent ("81.0%") or three decimals ("0.995").
std::string cell(double x, bool as_percent) {
  if (!std::isfinite(x)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof(buf), as_percent ? "%.1f%%" : "%.3f", as_percent ? 100.0 * x : x);
  return buf;
}

std::string run_evaluate(const EvalConfig& c, StageContext& ctx) {
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  const std::string& where = ctx.spec.where;
  // One reward object per distinct spec: models that share the stage's reward share its object (a reward
  // model inside it is loaded once).
  std::map<std::string, rewards::RewardPtr> rewards_by_spec;
  for (const auto& m : c.parsed_models) {
    if (!rewards_by_spec.count(m.reward.text)) {
      rewards_by_spec[m.reward.text] = make_reward(m.reward, ctx, where + ": models." + m.name);
    }
  }
  const rewards::RewardPtr language =
      c.language_reward.empty() ? nullptr : make_reward(c.language_reward, ctx, where + ": language_reward");
  const RawJson rm_spec = c.rm_reward_spec(where);
  const rewards::RewardPtr rm = rm_spec.empty() ? nullptr : make_reward(rm_spec, ctx, where + ": reward_model");
  ThreadPool pool(c.reward_threads > 0 ? static_cast<size_t>(c.reward_threads) : 0);
  std::vector<ModelReport> reports;
  for (const auto& m : c.parsed_models) {
    const std::vector<data::PromptExample> examples = m.data.load(ctx);
    const std::vector<data::PromptExample> rm_examples =
        rm != nullptr ? m.rm_data.load(ctx) : std::vector<data::PromptExample>{};
    const EvalRewards rw{rewards_by_spec.at(m.reward.text).get(), language.get(), rm.get()};
    reports.push_back(evaluate_model(c, ctx, m, examples, rm_examples, rw, pool));
  }
  if (!ctx.run.writer()) return ctx.dir;  // rank 0 holds every scored completion and writes the reports

  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("prompts", json::Value(reports.front().prompts), a);
  doc.AddMember("samples_per_prompt", json::Value(c.samples_per_prompt), a);
  doc.AddMember("temperature", json::Value(c.sampling.temperature), a);
  if (rm != nullptr) {
    doc.AddMember("rm_samples_per_prompt", json::Value(c.rm_samples()), a);
    doc.AddMember("rm_temperature", json::Value(c.rm_sampling().temperature), a);
  }
  json::Value list(rapidjson::kObjectType);
  auto num = [](double x) { return std::isfinite(x) ? json::Value(x) : json::Value(rapidjson::kNullType); };
  for (const auto& r : reports) {
    json::Value m(rapidjson::kObjectType);
    m.AddMember("path", text_value(r.path, a), a);
    m.AddMember("accuracy", num(r.accuracy), a);
    m.AddMember("format_rate", num(r.format_rate), a);
    m.AddMember("reward", num(r.reward), a);
    m.AddMember("language", num(r.language), a);
    m.AddMember("rm_score", num(r.rm_score), a);
    m.AddMember("completion_len_mean", num(r.len_mean), a);
    m.AddMember("truncation_rate", num(r.truncation), a);
    m.AddMember("prompts", json::Value(r.prompts), a);
    m.AddMember("completions", json::Value(r.completions), a);
    if (rm != nullptr) m.AddMember("rm_completions", json::Value(r.rm_completions), a);
    list.AddMember(text_value(r.name, a), m, a);
  }
  doc.AddMember("models", list, a);
  write_file_atomic(path_join(ctx.dir, "eval.json"), json::dump(doc, true) + "\n");

  std::printf("\n%s: %ld held-out prompts x %ld sample(s), temperature %g\n", ctx.spec.name.c_str(),
              static_cast<long>(reports.front().prompts), static_cast<long>(c.samples_per_prompt),
              c.sampling.temperature);
  if (rm != nullptr) {
    std::printf("%s: rm score = mean raw reward-model score over %ld rm_data prompts x %ld sample(s), temperature %g\n",
                ctx.spec.name.c_str(), static_cast<long>(reports.front().rm_completions / c.rm_samples()),
                static_cast<long>(c.rm_samples()), c.rm_sampling().temperature);
  }
  std::printf("  %-16s %10s %12s %9s %9s %9s %10s %10s\n", "model", "accuracy", "format rate", "reward", "language",
              "rm score", "length", "truncated");
  for (const auto& r : reports) {
    std::printf("  %-16s %10s %12s %9.3f %9s %9s %10.1f %10s\n", r.name.c_str(), cell(r.accuracy, true).c_str(),
                cell(r.format_rate, true).c_str(), r.reward, cell(r.language, false).c_str(), cell(r.rm_score, false).c_str(),
                r.len_mean, cell(r.truncation, true).c_str());
  }
  std::fflush(stdout);
  for (const auto& r : reports) {
    Metrics m;
    if (std::isfinite(r.accuracy)) m.set("accuracy", r.accuracy);
    if (std::isfinite(r.format_rate)) m.set("format_rate", r.format_rate);
    m.set("reward", r.reward);
    if (std::isfinite(r.language)) m.set("language", r.language);
    if (std::isfinite(r.rm_score)) m.set("rm_score", r.rm_score);
    m.set("completion_len_mean", r.len_mean);
    m.set("truncation_rate", r.truncation);
    ctx.run.log_metrics(ctx.spec.name + "/" + r.name, 0, m);
  }
  return ctx.dir;
}

}  // namespace

RawJson EvalConfig::rm_reward_spec(const std::string& where) const {
  if (rm_data.path.empty() || reward_model.empty()) return {};
  const std::string at = where + ": reward_model";
  const json::Document given = json::parse(reward_model.text, at);
  json::Document spec(rapidjson::kObjectType);
  auto& a = spec.GetAllocator();
  json::Value options(rapidjson::kObjectType);
  if (given.IsString()) {
    options.AddMember("path", json::Value(given, a), a);
  } else {
    R1_CHECK(given.IsObject(), at, ": expected a reward model path (a directory or stage:NAME) or the options of the "
             "reward_model reward (an object), got ", json::type_name(given));
    options.CopyFrom(given, a);
  }
  const auto o = rewards::read_reward_options<RewardModelOptions>(options, at);
  R1_CHECK(o.normalize == RmNormalize::kNone, at, ": option 'normalize' must be none: rm_score is the mean raw "
           "score of the reward model (normalize '", enum_name(o.normalize), "' would rescale it per batch or run)");
  R1_CHECK(o.clip == 0, at, ": option 'clip' must be 0: rm_score is the mean raw score of the reward model");
  spec.AddMember("name", "reward_model", a);
  spec.AddMember("options", options, a);
  return RawJson{json::dump(spec)};
}

SamplingConfig EvalConfig::rm_sampling() const {
  SamplingConfig s = sampling;
  if (rm_temperature >= 0) s.temperature = rm_temperature;
  return s;
}

void EvalConfig::validate(const std::string& where) {
  ensure_rl_rewards();  // a reward spec may name reward_model
  R1_CHECK(!models.empty(), where, ": 'models' is required (object: name -> model directory or stage:NAME)");
  device_from_name(device, where + ": device");
  sampling.validate(where + ": sampling");
  R1_CHECK(samples_per_prompt > 0 && batch_prompts > 0, where, ": samples_per_prompt and batch_prompts must be > 0");
  R1_CHECK(rm_samples_per_prompt >= 0, where, ": rm_samples_per_prompt must be >= 0 (0: samples_per_prompt), got ",
           rm_samples_per_prompt);
  R1_CHECK(std::isfinite(rm_temperature), where, ": rm_temperature must be a number (< 0: sampling.temperature)");

  if (is_off(language_reward)) {
    language_reward.text.clear();
  } else {
    language_reward.text = normalized_reward_spec(language_reward.text, where + ": language_reward");
  }
  if (is_off(reward_model)) reward_model.text.clear();
  const bool rm_on = !rm_data.path.empty();
  R1_CHECK(!rm_on || !reward_model.empty(), where, ": rm_data needs 'reward_model' (the reward model, a directory or "
           "stage:NAME, whose mean raw score of each model's completions of rm_data is the rm_score column)");
  R1_CHECK(rm_on || reward_model.empty(), where, ": reward_model needs 'rm_data' (rm_data.path: the prompts whose "
           "completions it scores)");
  if (rm_on) rm_reward_spec(where);  // checks its options

  const json::Document doc = json::parse(models.text, where + ": models");
  R1_CHECK(doc.IsObject() && doc.MemberCount() > 0, where,
           ": models must be a non-empty object name -> model directory, stage:NAME or {\"model\": ..., ...}");
  parsed_models.clear();
  json::Document resolved(rapidjson::kObjectType);
  auto& ra = resolved.GetAllocator();
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    EvalModel m;
    m.name.assign(it->name.GetString(), it->name.GetStringLength());
    const std::string at = where + ": models." + m.name;
    for (const auto& other : parsed_models) R1_CHECK(other.name != m.name, at, ": two models have this name");
    m.data = data;
    m.reward = reward;
    m.rm_data = rm_data;
    if (it->value.IsString()) {
      m.path.assign(it->value.GetString(), it->value.GetStringLength());
      resolved.AddMember(json::Value(it->name, ra), json::Value(it->value, ra), ra);
    } else {
      R1_CHECK(it->value.IsObject(), at, ": expected a model directory or stage:NAME (a string), or an object "
               "{\"model\", \"data\", \"reward\", \"rm_data\"}, got ", json::type_name(it->value));
      ModelOverride o;
      ConfigReader::read_struct(it->value, at, o);
      R1_CHECK(!o.model.empty(), at, ": key 'model' is required (a model directory or stage:NAME)");
      m.path = o.model;
      read_overlay(o.data, at + ": data", m.data);
      if (!o.reward.empty()) m.reward.text = normalized_reward_spec(o.reward.text, at + ": reward");
      R1_CHECK(rm_on || o.rm_data.empty(), at, ": 'rm_data' applies only with the stage's rm_data and reward_model "
               "(the rm_score column)");
      read_overlay(template_keys(o.data, at + ": data"), at + ": data", m.rm_data);
      read_overlay(o.rm_data, at + ": rm_data", m.rm_data);
      json::Value entry(rapidjson::kObjectType);
      entry.AddMember("model", text_value(o.model, ra), ra);
      if (!o.data.empty()) entry.AddMember("data", json::Value(json::parse(o.data.text, at), ra), ra);
      if (!o.reward.empty()) entry.AddMember("reward", json::Value(json::parse(m.reward.text, at), ra), ra);
      if (!o.rm_data.empty()) entry.AddMember("rm_data", json::Value(json::parse(o.rm_data.text, at), ra), ra);
      resolved.AddMember(json::Value(it->name, ra), entry, ra);
    }
    // The model's effective settings are checked as the stage's own would be.
    m.data.validate(at);
    R1_CHECK(!m.reward.empty(), at, ": 'reward' is required (the stage's, or the model's own in its object)");
    check_format_reward_matches_prompt(m.data, m.reward, at);
    ModelSource source;
    source.path = m.path;
    if (!m.data.chat_template.empty()) check_chat_template(m.data.chat_template, source, at + ": data");
    if (rm_on) {
      m.rm_data.validate(at + ": rm_data");
      if (!m.rm_data.chat_template.empty()) check_chat_template(m.rm_data.chat_template, source, at + ": rm_data");
    }
    parsed_models.push_back(std::move(m));
  }
  models.text = json::dump(resolved);
}

std::unique_ptr<Stage> make_evaluate_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<EvalConfig>>(spec, run_evaluate);
}

}  // namespace r1::rl
