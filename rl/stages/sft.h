// Stage "sft": supervised fine-tuning on chat JSONL ({"messages": [...]} or {"prompt", "completion"}); the
// loss covers only assistant tokens. The loop is the shared causal-LM trainer (rl/lm_trainer.h); this
// stage renders conversations into token sequences with their train masks:
//   * with a chat template (the tokenizer's, or one named by chat_template): every assistant turn's content
//     and its end-of-turn token are targets, everything else (system, user, the template's markers) is not;
//   * with prompt_template (base models without a chat format; rows of one user and one assistant turn):
//     the prompt wrapped in the template is context, the completion (+ EOS when add_eos) the target.
// With a chat template the result is a chat model: before training the stage writes <stage>/chat_tokenizer (the
// tokenizer files plus chat_template, eos_token = the end-of-turn token, bos/pad_token and
// special_tokens_map.json; model/tokenizer/chat_metadata.h) and makes it the policy's tokenizer, so every
// checkpoint and final/ carry it, and generation_config.json's eos_token_id gains the end-of-turn id. HF
// apply_chat_template then renders as training did, and `r1 generate --chat` uses the same template.
//
// The length is `steps`, or `epochs` passes over the rendered rows (steps = ceil(epochs x rows / batch_size)).
//
//   {"name": "cold_start", "type": "sft", "model": {"path": "stage:base"}, "data": "cold_start.jsonl",
//    "chat_template": "deepseek-r1", "steps": 200, "batch_size": 16, "optim": {"lr": 1e-4}}
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "datasets/sft_dataset.h"
#include "rl/lm_trainer.h"

namespace r1::rl {

struct SftConfig {
  LmTrainConfig train;
  std::string chat_template;       // "" = the tokenizer's; or deepseek-r1 | qwen | llama3 | chatml ...
  std::string prompt_template;     // instead of a chat template: wrap prompts with this text
  std::optional<bool> add_eos;     // prompt_template rows only (default true)
  double epochs = 0;               // > 0: sets train.steps from the number of rows (train_config_for_rows)

  template <class V>
  void visit(V& v) {
    train.visit(v);
    v("epochs", epochs, "passes over the data; > 0 sets steps = ceil(epochs x rows / batch_size) (the stage prints "
                        "it; 'steps' is then not used); 0: use 'steps'");
    v("chat_template", chat_template, "chat template: \"\" = the tokenizer's, or deepseek-r1 | qwen | llama3 | chatml");
    v("prompt_template", prompt_template, "instead of a chat template: r1_zero | plain | text with {prompt}");
    v("add_eos", add_eos, "with prompt_template: append EOS to every completion (default true); with a chat "
                          "template the template's end-of-turn token closes each assistant turn");
  }
  void validate(const std::string& where) const;
  // Runs on every rank of a job, each on its share of every step (rl/stage.h).
  bool data_parallel() const { return true; }
};

// c.train with its steps set from c.epochs over `rows` sequences when c.epochs > 0 (printed on stderr as
// "<stage>: E epoch(s) of R rows at batch_size B = S steps"); c.train unchanged otherwise.
LmTrainConfig train_config_for_rows(const SftConfig& c, size_t rows, const StageContext& ctx);

// The SFT sequences of a chat JSONL file (rendered with the chat template or c.prompt_template): ids plus
// the train mask (1 on assistant content and its end-of-turn token / eos, 0 elsewhere).
std::vector<Sequence> sft_sequences(const SftConfig& c, const model::Tokenizer& tok, const std::string& path,
                                    std::optional<int64_t> eos, const std::string& where);

// The same in two steps (the distill stage also needs the conversations): read the rows (malformed lines
// skipped with a warning when c.train.skip_bad_lines), then render and tokenise them with `tok` — text in,
// so a model with another tokenizer than the data's author gets its own tokens.
std::vector<data::Conversation> load_sft_conversations(const SftConfig& c, const std::string& path);
std::vector<Sequence> sft_sequences(const SftConfig& c, const model::Tokenizer& tok,
                                    const std::vector<data::Conversation>& convs, std::optional<int64_t> eos,
                                    const std::string& where);

// The prompt of each conversation for sampling a reply: every message before its last assistant turn,
// rendered with the chat template and its generation prompt (or, with c.prompt_template, the user turn in
// the template), as ids of `tok`.
std::vector<std::vector<int64_t>> sft_prompt_ids(const SftConfig& c, const model::Tokenizer& tok,
                                                 const std::vector<data::Conversation>& convs, const std::string& where);

// Makes the policy a chat model of the given template (see the file comment): writes <stage>/chat_tokenizer
// and makes it the policy's tokenizer; generation_config.json's eos gains the end-of-turn id.
void make_chat_model(Policy& policy, const std::string& template_name, const StageContext& ctx);

std::unique_ptr<Stage> make_sft_stage(const StageSpec& spec);

}  // namespace r1::rl
