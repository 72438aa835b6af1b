// See sft.h.
#include "rl/stages/sft.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "datasets/prompt_template.h"
#include "datasets/sft_dataset.h"
#include "model/hf_checkpoint.h"
#include "model/tokenizer/chat_metadata.h"
#include "model/tokenizer/chat_template.h"

namespace r1::rl {
namespace {

// Appends the tokens of one segment to s, marking them trainable or not.
void append(Sequence& s, const std::vector<int64_t>& ids, bool train) {
  s.ids.insert(s.ids.end(), ids.begin(), ids.end());
  s.train.insert(s.train.end(), ids.size(), train ? 1 : 0);
}

std::vector<Sequence> prompt_template_sequences(const SftConfig& c, const std::vector<data::Conversation>& convs,
                                                const model::Tokenizer& tok, std::optional<int64_t> eos,
                                                const std::string& where) {
  const std::string tmpl = data::resolve_prompt_template(c.prompt_template, where + ": prompt_template");
  std::vector<Sequence> out;
  out.reserve(convs.size());
  for (const auto& conv : convs) {
    R1_CHECK(conv.messages.size() == 2 && conv.messages[0].role == "user" && conv.messages[1].role == "assistant",
             conv.origin, ": a prompt_template SFT row must be one user turn and one assistant turn");
    Sequence s;
    append(s, tok.encode(data::apply_prompt_template(tmpl, conv.messages[0].content), true), false);
    append(s, tok.encode(conv.messages[1].content, false), true);
    if (c.add_eos.value_or(true) && eos) append(s, {*eos}, true);
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

std::vector<data::Conversation> load_sft_conversations(const SftConfig& c, const std::string& path) {
  size_t skipped = 0;
  std::vector<data::Conversation> convs = data::load_chat_jsonl(path, c.train.skip_bad_lines, &skipped);
  if (skipped) std::fprintf(stderr, "warning: %s: skipped %zu malformed lines\n", path.c_str(), skipped);
  return convs;
}

std::vector<Sequence> sft_sequences(const SftConfig& c, const model::Tokenizer& tok,
                                    const std::vector<data::Conversation>& convs, std::optional<int64_t> eos,
                                    const std::string& where) {
  if (!c.prompt_template.empty()) return prompt_template_sequences(c, convs, tok, eos, where);
  const model::ChatTemplate chat = model::ChatTemplate::resolve(c.chat_template, tok);
  std::vector<Sequence> out;
  out.reserve(convs.size());
  for (const auto& conv : convs) {
    model::ChatTokens t = model::tokenize_chat(tok, chat.render_segments(conv.messages));
    out.push_back(Sequence{std::move(t.ids), std::move(t.trainable)});
  }
  return out;
}

std::vector<Sequence> sft_sequences(const SftConfig& c, const model::Tokenizer& tok, const std::string& path,
                                    std::optional<int64_t> eos, const std::string& where) {
  return sft_sequences(c, tok, load_sft_conversations(c, path), eos, where);
}

std::vector<std::vector<int64_t>> sft_prompt_ids(const SftConfig& c, const model::Tokenizer& tok,
                                                 const std::vector<data::Conversation>& convs, const std::string& where) {
  std::optional<model::ChatTemplate> chat;
  std::string tmpl;
  if (c.prompt_template.empty()) {
    chat = model::ChatTemplate::resolve(c.chat_template, tok);
  } else {
    tmpl = data::resolve_prompt_template(c.prompt_template, where + ": prompt_template");
  }
  std::vector<std::vector<int64_t>> out;
  out.reserve(convs.size());
  for (const auto& conv : convs) {
    size_t last = conv.messages.size();
    while (last > 0 && conv.messages[last - 1].role != "assistant") --last;
    R1_CHECK(last > 0, conv.origin, ": no assistant turn: nothing to sample a reply for");
    const std::vector<model::ChatMessage> context(conv.messages.begin(), conv.messages.begin() + (last - 1));
    R1_CHECK(!context.empty(), conv.origin, ": the assistant turn has no prompt before it");
    if (chat) {
      model::ChatOptions options;
      options.add_generation_prompt = true;
      out.push_back(model::tokenize_chat(tok, chat->render_segments(context, options)).ids);
    } else {
      R1_CHECK(context.size() == 1 && context[0].role == "user", conv.origin,
               ": a prompt_template row must be one user turn and one assistant turn");
      out.push_back(tok.encode(data::apply_prompt_template(tmpl, context[0].content), true));
    }
  }
  return out;
}

void SftConfig::validate(const std::string& where) const {
  train.validate(where);
  R1_CHECK(std::isfinite(epochs) && epochs >= 0, where, ": key 'epochs' must be >= 0 (0: use 'steps'), got ", epochs);
  R1_CHECK(chat_template.empty() || prompt_template.empty(), where,
           ": give chat_template or prompt_template, not both");
  if (prompt_template.empty()) check_chat_template(chat_template, train.model, where);
  R1_CHECK(!add_eos.has_value() || !prompt_template.empty(), where,
           ": add_eos applies to prompt_template rows only; with a chat template the template's end-of-turn token "
           "closes every assistant turn (remove add_eos, or use prompt_template)");
}

LmTrainConfig train_config_for_rows(const SftConfig& c, size_t rows, const StageContext& ctx) {
  LmTrainConfig train = c.train;
  if (c.epochs <= 0) return train;
  const double exact = c.epochs * static_cast<double>(rows) / static_cast<double>(train.batch_size);
  train.steps = std::max<int64_t>(1, static_cast<int64_t>(std::ceil(exact - 1e-9)));
  if (ctx.run.writer()) {
    std::fprintf(stderr, "%s: %g epoch(s) of %zu rows at batch_size %ld = %ld steps\n", ctx.spec.name.c_str(),
                 c.epochs, rows, static_cast<long>(train.batch_size), static_cast<long>(train.steps));
  }
  return train;
}

// Trained with a chat template, the model becomes a chat model: its tokenizer files (<stage>/chat_tokenizer,
// which every checkpoint and final/ copy) carry the template and its special tokens (chat_metadata.h), and
// generation_config.json also stops at the end-of-turn token.
void make_chat_model(Policy& policy, const std::string& template_name, const StageContext& ctx) {
  const model::ChatTemplate chat = model::ChatTemplate::resolve(template_name, *policy.tokenizer);
  const std::string dir = path_join(ctx.dir, "chat_tokenizer");
  if (ctx.run.writer()) model::write_chat_tokenizer_dir(policy.tokenizer_dir, dir, chat, *policy.tokenizer);
  ctx.world.barrier();  // rank 0 wrote it; every rank reads it
  policy.tokenizer = model::Tokenizer::load(dir);
  policy.tokenizer_dir = dir;
  model::CausalLM& m = *policy.model;
  const std::string origin = ctx.spec.where + ": the model's generation_config.json";
  const std::string generation = m.generation_config_json().empty()
                                     ? model::default_generation_config(m.config().to_json(), origin)
                                     : m.generation_config_json();
  m.set_generation_config_json(model::generation_config_with_eos(generation, *policy.tokenizer->eos_id(), origin));
}

namespace {

std::string run_sft(const SftConfig& c, StageContext& ctx) {
  Policy policy = load_policy(c.train.model, ctx, ctx.spec.where);
  if (c.prompt_template.empty()) make_chat_model(policy, c.chat_template, ctx);
  std::vector<Sequence> sequences =
      sft_sequences(c, *policy.tokenizer, ctx.resolve_ref(c.train.data), lm_eos_id(policy), ctx.spec.where);
  return train_causal_lm(train_config_for_rows(c, sequences.size(), ctx), std::move(policy), sequences, ctx);
}

}  // namespace

std::unique_ptr<Stage> make_sft_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<SftConfig>>(spec, run_sft);
}

}  // namespace r1::rl
