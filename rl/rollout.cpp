// See rollout.h.
#include "rl/rollout.h"

#include <chrono>

#include "common/clock.h"
#include "common/error.h"
#include "datasets/prompt_template.h"
#include "rewards/format_reward.h"
#include "rewards/options.h"
#include "rewards/registry.h"
#include "rl/run_rewards.h"
#include "rl/stage.h"

namespace r1::rl {
void PromptData::validate(const std::string& where) const {
  R1_CHECK(!path.empty(), where, ": data.path is required");
  R1_CHECK(prompt_template.empty() != chat_template.empty(), where,
           ": data: give exactly one of prompt_template and chat_template (set the other to \"\")");
  if (!prompt_template.empty()) data::resolve_prompt_template(prompt_template, where + ": data.prompt_template");
}

std::vector<data::PromptExample> PromptData::load(const StageContext& ctx) const {
  data::PromptDatasetSpec spec;
  spec.path = ctx.resolve_ref(path);
  spec.format = format;
  spec.question_key = question_key;
  spec.answer_key = answer_key;
  spec.target_lang = target_lang;
  spec.limit = limit;
  spec.skip_bad_lines = skip_bad_lines;
  auto rows = data::load_prompt_dataset(spec);
  R1_CHECK(!rows.empty(), spec.path, ": the prompt dataset is empty");
  return rows;
}

void SamplingConfig::validate(const std::string& where) const {
  R1_CHECK(max_new_tokens > 0, where, ": max_new_tokens must be > 0");
  R1_CHECK(temperature >= 0, where, ": temperature must be >= 0");
  R1_CHECK(top_p > 0 && top_p <= 1, where, ": top_p must be in (0, 1]");
  R1_CHECK(top_k >= 0, where, ": top_k must be >= 0");
}

PromptRenderer::PromptRenderer(const PromptData& data, const model::Tokenizer& tokenizer, const std::string& where)
    : tokenizer_(tokenizer) {
  if (!data.prompt_template.empty()) {
    prompt_template_ = data::resolve_prompt_template(data.prompt_template, where + ": data.prompt_template");
  } else {
    chat_ = std::make_unique<model::ChatTemplate>(model::ChatTemplate::resolve(data.chat_template, tokenizer));
    if (auto id = tokenizer.token_to_id(chat_->end_of_turn())) stop_ids_.push_back(*id);
  }
}

std::string PromptRenderer::text(const data::PromptExample& ex) const {
  if (!chat_) return data::apply_prompt_template(prompt_template_, ex.question);
  model::ChatOptions options;
  options.add_generation_prompt = true;
  return chat_->render({{"user", ex.question}}, options);
}

std::vector<int64_t> PromptRenderer::ids(const data::PromptExample& ex) const {
  // The question is untrusted text: special tokens written in it stay text (parse_special = false) — only
  // the template's own markers are control tokens. A chat template writes BOS itself.
  if (!chat_) {
    // Template text around the question may hold special tokens (e.g. "<think>"); the question may not.
    // The three parts are encoded separately (as chat templates encode segments), so the boundaries
    // are the same wherever this prompt is tokenized.
    std::vector<int64_t> out;
    const std::string tmpl = prompt_template_;
    const size_t slot = tmpl.find("{prompt}");
    std::vector<int64_t> head = tokenizer_.encode(tmpl.substr(0, slot), /*add_special_tokens=*/true);
    std::vector<int64_t> body = tokenizer_.encode(ex.question, false, /*parse_special=*/false);
    std::vector<int64_t> tail = tokenizer_.encode(
        data::apply_prompt_template(tmpl.substr(slot + 8), ex.question), false);
    out.insert(out.end(), head.begin(), head.end());
    out.insert(out.end(), body.begin(), body.end());
    out.insert(out.end(), tail.begin(), tail.end());
    return out;
  }
  model::ChatOptions options;
  options.add_generation_prompt = true;
  return model::tokenize_chat(tokenizer_, chat_->render_segments({{"user", ex.question}}, options)).ids;
}

model::GenerationConfig sampling_generation_config(const SamplingConfig& sampling, const model::Tokenizer& tok,
                                                   std::vector<int64_t> eos_ids, uint64_t seed) {
  model::GenerationConfig gc;
  gc.max_new_tokens = sampling.max_new_tokens;
  gc.greedy = sampling.temperature == 0;
  gc.temperature = sampling.temperature > 0 ? sampling.temperature : 1.0;
  gc.top_p = sampling.top_p;
  gc.top_k = sampling.top_k;
  gc.seed = seed;
  gc.eos_ids = std::move(eos_ids);
  gc.stop_strings = sampling.stop;
  const model::Tokenizer* t = &tok;
  gc.decode = [t](const std::vector<int64_t>& ids) { return t->decode(ids); };
  gc.pad_id = tok.pad_id().value_or(gc.eos_ids.empty() ? 0 : gc.eos_ids.front());
  gc.sample_vocab = tok.vocab_size();
  return gc;
}

std::string completion_text(const model::Tokenizer& tok, const model::GenerationResult& generation) {
  // EOS / end-of-turn tokens are control tokens, not part of the answer text the reward judges.
  if (generation.finish == model::FinishReason::kEos && !generation.tokens.empty()) {
    return tok.decode(std::vector<int64_t>(generation.tokens.begin(), generation.tokens.end() - 1), false);
  }
  return tok.decode(generation.tokens, /*skip_special_tokens=*/false);
}

Rollout generate_rollout(const Policy& policy, const PromptRenderer& renderer,
                         const std::vector<const data::PromptExample*>& prompts, int64_t group_size,
                         const SamplingConfig& sampling, uint64_t seed, int64_t first_prompt, int64_t total_prompts) {
  Rollout r;
  r.prompts = prompts;
  r.group_size = group_size;
  std::vector<std::vector<int64_t>> batch;
  for (const auto* ex : prompts) {
    r.prompt_texts.push_back(renderer.text(*ex));
    std::vector<int64_t> ids = renderer.ids(*ex);
    for (int64_t g = 0; g < group_size; ++g) batch.push_back(ids);
  }
  std::vector<int64_t> eos_ids = stop_token_ids(policy);
  for (int64_t id : renderer.stop_ids()) eos_ids.push_back(id);
  const model::Tokenizer* tok = policy.tokenizer.get();
  model::GenerationConfig gc = sampling_generation_config(sampling, *tok, std::move(eos_ids), seed);
  if (total_prompts > 0) {
    gc.window_rows = total_prompts * group_size;
    gc.window_first_row = first_prompt * group_size;
  }
  const auto t0 = SteadyClock::now();
  std::vector<model::GenerationResult> results = model::generate(*policy.model, batch, gc);
  r.generate_s = seconds_since(t0);
  r.completions.resize(results.size());
  for (size_t i = 0; i < results.size(); ++i) {
    Completion& c = r.completions[i];
    c.prompt_index = i / static_cast<size_t>(group_size);
    c.prompt_ids = std::move(batch[i]);
    c.generation = std::move(results[i]);
    c.text = completion_text(*tok, c.generation);
    r.generated_tokens += static_cast<int64_t>(c.generation.tokens.size());
  }
  return r;
}

void score_rollout(Rollout& rollout, const rewards::Reward& reward, ThreadPool* pool, int64_t step) {
  const auto t0 = SteadyClock::now();
  std::vector<rewards::Sample> samples(rollout.completions.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    const Completion& c = rollout.completions[i];
    samples[i].prompt = rollout.prompt_texts[c.prompt_index];
    samples[i].completion = c.text;
    samples[i].row = rollout.prompts[c.prompt_index]->row.get();
    samples[i].completion_tokens = static_cast<int64_t>(c.generation.tokens.size());
    samples[i].truncated = c.generation.truncated();
    samples[i].step = step;
  }
  std::vector<rewards::Score> scores = reward.score_batch(samples, pool);
  for (size_t i = 0; i < scores.size(); ++i) rollout.completions[i].score = std::move(scores[i]);
  rollout.reward_s = seconds_since(t0);
}

void check_format_reward_matches_prompt(const PromptData& data, const RawJson& reward, const std::string& where) {
  if (data.prompt_template.empty() || reward.empty()) return;
  std::string text = data::resolve_prompt_template(data.prompt_template, where + ": data.prompt_template");
  text.erase(text.find_last_not_of(" \t\r\n") + 1);
  const std::string kThink = "<think>";
  const bool prompt_opens_think =
      text.size() >= kThink.size() && text.compare(text.size() - kThink.size(), kThink.size(), kThink) == 0;
  const json::Document spec = json::parse(reward.text, where + ": reward");
  rewards::Registry::walk(spec, where + ": reward", [&](const std::string& name, const json::Value& options,
                                                        const std::string& at) {
    if (name != "format") return;
    const auto format = rewards::read_reward_options<rewards::FormatConfig>(options, at);
    R1_CHECK(format.think_in_prompt == prompt_opens_think, at, ": the prompt template ",
             prompt_opens_think ? "ends with <think>, so completions start inside the think block, but the format "
                                  "reward has think_in_prompt false and would fail every completion; set "
                                  "\"think_in_prompt\": true in its options"
                                : "does not end with <think>, but the format reward has think_in_prompt true and "
                                  "would accept completions that never open <think>; remove think_in_prompt or use "
                                  "a template that ends with <think> (e.g. r1_zero_think)");
  });
}

rewards::RewardPtr make_reward(const RawJson& spec, const StageContext& ctx, const std::string& where) {
  R1_CHECK(!spec.empty(), where, ": 'reward' is required (a name, \"a,b\", or a JSON spec; see r1 reward list)");
  ensure_rl_rewards();
  const json::Document doc = resolve_stage_refs_in_spec(json::parse(spec.text, where + ": reward"), ctx);
  return rewards::Registry::global().make_from_json(doc, where + ": reward");
}

std::optional<double> correctness(const rewards::Score& score) {
  static const std::string kSuffix = "correct";
  for (const auto& [k, v] : score.components) {
    if (k.size() >= kSuffix.size() && k.compare(k.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0) return v;
  }
  return std::nullopt;
}

}  // namespace r1::rl
