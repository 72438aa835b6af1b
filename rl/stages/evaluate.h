// Stage "evaluate": generates completions for a held-out prompt set with one or more models and reports per model
// accuracy (the reward's "…correct" component), format rate (a named component, "format/ok" by default), mean
// reward, the language column (mean of `language_reward`, by default the share of chain-of-thought words in the
// row's target language), the rm_score column (mean raw score of a reward model on the model's completions of a
// second prompt set, `rm_data`; off unless `reward_model` and `rm_data` are given), completion length and
// truncation rate — printed as a table, written to <stage>/eval.json (null where a column is off), with every
// completion in <stage>/completions-<model>.jsonl (and those of rm_data in completions-<model>-rm.jsonl).
//
//   {"type": "evaluate",
//    "models": {"base": {"model": "stage:base", "data": {"prompt_template": "r1_zero", "chat_template": ""},
//                        "reward": "math, format"},
//               "r1": "stage:rl"},
//    "data": {"path": "...", "prompt_template": "", "chat_template": "auto"}, "reward": {...},
//    "rm_data": {"path": "...", "prompt_template": "", "chat_template": "auto"}, "reward_model": "stage:rm",
//    "sampling": {"temperature": 0, "max_new_tokens": 128}}
// A model is a path string (a model directory or stage:NAME) or an object: "model" (that string, required),
// "data" (PromptData keys read over the stage's data: e.g. an R1-Zero model under its prompt template while the
// others use a chat template), "reward" (replaces the stage's reward for this model), "rm_data" (PromptData keys
// read over the stage's rm_data, after the prompt_template / chat_template of the model's "data"). Every model's
// effective data and reward are checked like the stage's (chat template, format reward vs. prompt template).
// `reward_model` is a reward model path / stage:NAME or the options object of the `reward_model` reward
// (rl/reward_model_reward.h) with normalize "none" and clip 0 (the column is the mean raw score).
// Greedy decoding (temperature 0) by default; with sampling, samples_per_prompt > 1 gives pass@1 averaged
// over samples. Seeds depend on the batch position only, so every model sees the same sampling noise.
// The rm_data completions may be sampled apart from the rest (`rm_temperature`, `rm_samples_per_prompt`): a
// policy's expected reward-model score, what RL against the reward model raises, is a mean over sampled replies
// (greedy replies change on a handful of prompts only, and a pairwise RM's scores differ from prompt to prompt).
// Each model is loaded with its own tokenizer, so models with different tokenizers compare on the same
// questions — a distillation teacher and its student side by side (docs/distillation.md); with
// data.chat_template "auto" each is prompted through the chat template of its own tokenizer config.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rl/rollout.h"
#include "rl/stage.h"

namespace r1::rl {

// One entry of `models` after validate(): its effective settings.
struct EvalModel {
  std::string name, path;  // path: model directory or stage:NAME
  PromptData data;         // the stage's data with the model's overlay
  RawJson reward;          // the model's reward or the stage's (normal form)
  PromptData rm_data;      // the stage's rm_data with the model's overlays (unused when rm_score is off)
};

struct EvalConfig {
  RawJson models;  // object: display name → model directory / stage:NAME, or an override object
  PromptData data;
  RawJson reward;
  RawJson language_reward{R"({"name": "language"})"};
  PromptData rm_data;  // path "" = no rm_score
  RawJson reward_model;
  SamplingConfig sampling = [] {
    SamplingConfig s;
    s.temperature = 0;
    return s;
  }();
  int64_t samples_per_prompt = 1;
  double rm_temperature = -1;        // < 0: sampling.temperature
  int64_t rm_samples_per_prompt = 0;  // 0: samples_per_prompt
  int64_t batch_prompts = 64;  // prompts per generate call
  std::string format_component = "format/ok";
  int64_t reward_threads = 0;
  int64_t threads = 0;
  std::string device = "auto";

  std::vector<EvalModel> parsed_models;  // filled by validate(), in `models` order

  template <class V>
  void visit(V& v) {
    v("models", models,
      "object: name -> model directory or stage:NAME, or {\"model\": dir or stage:NAME, \"data\": {keys over data}, "
      "\"reward\": spec replacing reward, \"rm_data\": {keys over rm_data}} (evaluated in this order)");
    v("data", data);
    v("reward", reward);
    v("language_reward", language_reward,
      "reward spec of the language column (mean score; default: the share of chain-of-thought words in the row's "
      "target_lang); null or \"\" = off");
    v("rm_data", rm_data, "prompts for the rm_score column (path \"\" = off; needs reward_model)");
    v("reward_model", reward_model,
      "rm_score column: reward model directory or stage:NAME, or the reward_model reward's options (normalize none, "
      "clip 0); the mean raw score of each model's completions of rm_data");
    v("sampling", sampling);
    v("samples_per_prompt", samples_per_prompt);
    v("rm_temperature", rm_temperature,
      "temperature of the rm_data completions (< 0: sampling.temperature); the rest of sampling is shared");
    v("rm_samples_per_prompt", rm_samples_per_prompt,
      "completions per rm_data prompt (0: samples_per_prompt); rm_score averages over all of them");
    v("batch_prompts", batch_prompts);
    v("format_component", format_component, "score component counted as the format rate");
    v("reward_threads", reward_threads);
    v("threads", threads);
    v("device", device, "device of the evaluated models: auto | cpu | cuda | cuda:N (see model.device)");
  }
  // Checks the keys and fills parsed_models; writes `models`' per-model rewards and language_reward in normal
  // form.
  void validate(const std::string& where);
  // Runs on every rank of a job: each samples and scores its share of every batch, rank 0 writes (rl/stage.h).
  bool data_parallel() const { return true; }
  // The spec of the reward_model reward behind rm_score ({"name": "reward_model", "options": {...}}), or ""
  // when rm_score is off.
  RawJson rm_reward_spec(const std::string& where) const;
  // The sampling and the completions per prompt of the rm_data prompts (rm_temperature, rm_samples_per_prompt
  // resolved against sampling and samples_per_prompt).
  SamplingConfig rm_sampling() const;
  int64_t rm_samples() const { return rm_samples_per_prompt > 0 ? rm_samples_per_prompt : samples_per_prompt; }
};

std::unique_ptr<Stage> make_evaluate_stage(const StageSpec& spec);

}  // namespace r1::rl
