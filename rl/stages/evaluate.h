// Stage "evaluate": generates completions for a held-out prompt set with one or more models and reports
// accuracy (the reward's "…correct" component), format rate (a named component, "format/ok" by default),
// mean reward, completion length and truncation rate per model — printed as a table, written to
// <stage>/eval.json, with every completion in <stage>/completions-<model>.jsonl.
//
//   {"type": "evaluate", "models": {"base": "stage:base", "r1_zero": "stage:zero"},
//    "data": {...}, "reward": {...}, "sampling": {"temperature": 0, "max_new_tokens": 128}}
// Greedy decoding (temperature 0) by default; with sampling, samples_per_prompt > 1 gives pass@1 averaged
// over samples.
// Each model is loaded with its own tokenizer, so models with different tokenizers compare on the same
// questions — a distillation teacher and its student side by side (docs/distillation.md); with
// data.chat_template "auto" each is prompted through the chat template of its own tokenizer config.
#pragma once

#include <memory>

#include "rl/rollout.h"
#include "rl/stage.h"

namespace r1::rl {

struct EvalConfig {
  RawJson models;  // object: display name → model directory or stage:NAME
  PromptData data;
  RawJson reward;
  SamplingConfig sampling = [] {
    SamplingConfig s;
    s.temperature = 0;
    return s;
  }();
  int64_t samples_per_prompt = 1;
  int64_t batch_prompts = 64;  // prompts per generate call
  std::string format_component = "format/ok";
  int64_t reward_threads = 0;
  int64_t threads = 0;
  std::string device = "auto";

  template <class V>
  void visit(V& v) {
    v("models", models, "object: name -> model directory or stage:NAME (evaluated in this order)");
    v("data", data);
    v("reward", reward);
    v("sampling", sampling);
    v("samples_per_prompt", samples_per_prompt);
    v("batch_prompts", batch_prompts);
    v("format_component", format_component, "score component counted as the format rate");
    v("reward_threads", reward_threads);
    v("threads", threads);
    v("device", device, "device of the evaluated models: auto | cpu | cuda | cuda:N (see model.device)");
  }
  void validate(const std::string& where) const;
};

std::unique_ptr<Stage> make_evaluate_stage(const StageSpec& spec);

}  // namespace r1::rl
