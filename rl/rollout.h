// Rollouts: prompts from a dataset, rendered into model input, G completions sampled per prompt with the
// generation engine, decoded and scored by the recipe's reward. Shared by GRPO, evaluation and rejection
// sampling.
//
// Prompt rendering: a prompt template (datasets/prompt_template.h, e.g. R1-Zero's) wraps the question for
// base models; a chat template (model/tokenizer/chat_template.h) renders it as one user turn plus the assistant
// generation prompt for chat models. Exactly one of the two is used (prompt_template wins when both are
// set in code; recipes are validated to give one).
//
// Determinism: every completion depends only on (seed, row index, prompt, model) — see generate.h — so a
// resumed run regenerates exactly what an uninterrupted one would have.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/thread_pool.h"
#include "datasets/prompt_dataset.h"
#include "model/tokenizer/chat_template.h"
#include "model/generate.h"
#include "rewards/reward.h"
#include "common/config_io.h"
#include "rl/policy.h"

namespace r1::rl {

struct StageContext;

// The "data" section of RL / evaluation stages.
struct PromptData {
  std::string path;                  // file or stage:NAME/file
  std::string format = "jsonl";      // jsonl | gsm8k | math | countdown | mgsm
  std::string question_key;          // jsonl: default prompt / question / problem
  std::string answer_key = "answer";
  std::string target_lang;
  int64_t limit = -1;
  bool skip_bad_lines = false;
  std::string prompt_template = "r1_zero";  // "" when chat_template is used
  std::string chat_template;                // "" = none; "auto" = the tokenizer's; or a built-in name

  template <class V>
  void visit(V& v) {
    v("path", path, "prompt dataset file or stage:NAME/file");
    v("format", format, "jsonl | gsm8k | math | countdown | mgsm");
    v("question_key", question_key);
    v("answer_key", answer_key);
    v("target_lang", target_lang, "set target_lang on every row (language reward)");
    v("limit", limit, "use the first N rows (-1: all)");
    v("skip_bad_lines", skip_bad_lines);
    v("prompt_template", prompt_template, "r1_zero | r1_zero_think | short_think | plain | text with {prompt}");
    v("chat_template", chat_template, "instead of prompt_template: auto | deepseek-r1 | qwen | llama3 ...");
  }
  void validate(const std::string& where) const;
  std::vector<data::PromptExample> load(const StageContext& ctx) const;
};

// Sampling settings of a rollout.
struct SamplingConfig {
  int64_t max_new_tokens = 256;
  double temperature = 1.0;  // 0 = greedy
  double top_p = 1.0;
  int64_t top_k = 0;
  std::vector<std::string> stop;  // stop strings (the completion keeps them)

  template <class V>
  void visit(V& v) {
    v("max_new_tokens", max_new_tokens);
    v("temperature", temperature, "0 = greedy");
    v("top_p", top_p);
    v("top_k", top_k, "0 = off");
    v("stop", stop, "stop strings, kept in the completion");
  }
  void validate(const std::string& where) const;
};

class PromptRenderer {
 public:
  PromptRenderer(const PromptData& data, const model::Tokenizer& tokenizer, const std::string& where);
  std::string text(const data::PromptExample& ex) const;
  std::vector<int64_t> ids(const data::PromptExample& ex) const;
  // Extra stop token ids (the chat template's end-of-turn token), if any.
  std::vector<int64_t> stop_ids() const { return stop_ids_; }

 private:
  const model::Tokenizer& tokenizer_;
  std::string prompt_template_;
  std::unique_ptr<model::ChatTemplate> chat_;
  std::vector<int64_t> stop_ids_;
};

// One sampled completion and its score.
struct Completion {
  size_t prompt_index = 0;            // into the rollout's prompts
  std::vector<int64_t> prompt_ids;
  model::GenerationResult generation;
  std::string text;                   // decoded completion
  rewards::Score score;
};

struct Rollout {
  std::vector<const data::PromptExample*> prompts;  // not owned
  std::vector<std::string> prompt_texts;
  std::vector<Completion> completions;  // group-major: prompt 0's G completions first
  int64_t group_size = 1;
  double generate_s = 0, reward_s = 0;
  int64_t generated_tokens = 0;
};

// The generate() settings of `sampling` (temperature 0 = greedy) for a model with tokenizer `tok`: stop on
// `eos_ids` and on the stop strings (decoded with tok), pad with tok's pad token (else the first eos id), sample
// only tok's ids (not an embedding's padding rows).
model::GenerationConfig sampling_generation_config(const SamplingConfig& sampling, const model::Tokenizer& tok,
                                                   std::vector<int64_t> eos_ids, uint64_t seed);

// Samples group_size completions for each prompt (in one batched generate call). With total_prompts > 0 the
// prompts are prompts [first_prompt, first_prompt + prompts.size()) of a rollout of total_prompts prompts (a
// rank's share, rl/grpo/rollout_share.h): each completion is sampled as it would be in that whole rollout.
Rollout generate_rollout(const Policy& policy, const PromptRenderer& renderer,
                         const std::vector<const data::PromptExample*>& prompts, int64_t group_size,
                         const SamplingConfig& sampling, uint64_t seed, int64_t first_prompt = 0,
                         int64_t total_prompts = 0);

// The text a reward judges of a generation: its tokens decoded with special tokens kept, less a final EOS /
// end-of-turn token.
std::string completion_text(const model::Tokenizer& tok, const model::GenerationResult& generation);

// Scores every completion with the reward (batched on the pool); fills Completion::score and reward_s. `step`
// is the trainer step the rollout was sampled at (rewards::Sample::step: reward-term schedules read it); -1
// outside training, where every reward part counts at its base weight.
void score_rollout(Rollout& rollout, const rewards::Reward& reward, ThreadPool* pool, int64_t step = -1);

// Errors when a "format" reward in `reward` disagrees with the prompt template about who opens <think>:
// a template ending in "<think>" needs think_in_prompt true, any other template needs it false (otherwise
// the format rate is silently 0, or silently lenient). Every format reward of the spec is found with
// rewards::Registry::walk and its options read through its options struct (defaults applied); the error
// names the format reward's place in the spec. Chat templates are not checked.
void check_format_reward_matches_prompt(const PromptData& data, const RawJson& reward, const std::string& where);

// The reward from a recipe's "reward" value (RawJson), or an error naming `where`. "stage:NAME" strings in its
// options (e.g. a reward_model's path) are resolved to the stage's output first (rl/run_rewards.h).
rewards::RewardPtr make_reward(const RawJson& spec, const StageContext& ctx, const std::string& where);

// The accuracy signal of one score: its first component whose name ends in "correct" ("math/correct",
// "code/correct", ...), nullopt when the reward has none.
std::optional<double> correctness(const rewards::Score& score);

}  // namespace r1::rl
