// Built-in chat templates: the DeepSeek family (R1 and V3), ChatML (Qwen) and Llama 3 / 3.1, rendered
// into a string and into segments that say which text the model is trained on.
//
// Why built in instead of a Jinja engine: the pipeline needs more than the string. SFT masks the loss to
// the assistant's tokens, so render_segments() marks each assistant message's content plus its end
// token (<｜end▁of▁sentence｜>, <|im_end|>, <|eot_id|>) as trainable and everything else (BOS, system
// prompt, role headers, the generation prompt, ChatML's newline after <|im_end|>) as not. The strings are
// the ones the models' own Jinja templates produce (tests/fixtures/tokenizers/chat_templates holds the
// reference templates and their Jinja2 renderings; the tests compare byte for byte).
//
// Family rules, as in the reference templates:
//   deepseek-r1   BOS + system prompts (joined by "\n\n") + "<｜User｜>"content + "<｜Assistant｜>"content
//                 "<｜end▁of▁sentence｜>"; an assistant message keeps only the text after its last
//                 "</think>"; the generation prompt is "<｜Assistant｜><think>\n".
//   deepseek-v3   the same without dropping reasoning and with the generation prompt "<｜Assistant｜>".
//   qwen / chatml "<|im_start|>role\ncontent<|im_end|>\n"; qwen inserts Qwen2.5's default system prompt
//                 when the first message is not a system message; chatml has no default.
//   llama3        BOS on the first message; "<|start_header_id|>role<|end_header_id|>\n\n" +
//                 trim(content) + "<|eot_id|>".
//   llama3.1      BOS + a system block that always opens with "Cutting Knowledge Date: December 2023\n
//                 Today Date: 26 Jul 2024\n\n" (the template's default date; r1 never substitutes today's
//                 date, so renders are reproducible) + the first system message, trimmed.
//
// Departure: the DeepSeek-R1 template drops the reasoning of *every* assistant message, including the
// last. For training on R1 traces that would delete exactly what SFT must learn, so by default the
// reasoning of a final assistant message is kept (ChatOptions::keep_final_reasoning); earlier turns lose
// theirs as in the reference. Set keep_final_reasoning=false for the reference's string.
//
// Only the roles system, user and assistant are supported (tool calls are not): another role is an error.
// The rendered text already contains BOS where the model wants it: encode it with add_special_tokens=false
// (as transformers' apply_chat_template does), or use tokenize_chat(). Generation should stop on the
// tokenizer's eos_id() and on end_of_turn() (they differ for Qwen and Llama instruct models).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/chat_message.h"
#include "model/tokenizer/tokenizer.h"

namespace r1::model {

using ChatMessage = r1::ChatMessage;  // common/chat_message.h

struct ChatSegment {
  std::string text;
  bool trainable = false;  // assistant content + its end-of-turn token
};

struct ChatOptions {
  bool add_generation_prompt = false;  // append the opening of an assistant turn
  bool keep_final_reasoning = true;    // see the departure above (DeepSeek-R1 only)
};

enum class ChatFamily { kDeepSeek, kChatML, kLlama3 };

class ChatTemplate {
 public:
  // Built-in names: deepseek-r1 (alias r1, deepseek), deepseek-v3, qwen (alias qwen2.5), chatml,
  // llama3, llama3.1. bos_token overrides the family's BOS text. Unknown names throw.
  static ChatTemplate by_name(const std::string& name, const std::optional<std::string>& bos_token = std::nullopt);
  static std::vector<std::string> names();

  // Recognises the family of a Jinja chat template by its markers (and reads its parameters: whether
  // reasoning is dropped, whether the generation prompt opens <think>, the default system prompt, the
  // Llama-3.1 date). nullopt when no family matches; throws for a recognised but unsupported variant.
  static std::optional<ChatTemplate> recognize(const std::string& jinja, const std::optional<std::string>& bos_token);

  // The template a recipe asks for: a built-in name, or "" / "auto" for the one in the tokenizer's
  // config (tokenizer_config.json chat_template or chat_template.jinja). Checks that every marker of the
  // template is a single token of the tokenizer. Throws r1::Error with the reason otherwise.
  static ChatTemplate resolve(const std::string& name, const Tokenizer& tokenizer);

  // Segments in order; adjacent segments with the same flag are merged, so they alternate.
  std::vector<ChatSegment> render_segments(const std::vector<ChatMessage>& messages, const ChatOptions& options = {}) const;
  // The concatenated text.
  std::string render(const std::vector<ChatMessage>& messages, const ChatOptions& options = {}) const;

  // Same family, name and parameters: the two render every conversation identically.
  bool same_as(const ChatTemplate& other) const;

  // Throws unless each marker (BOS, role markers, end-of-turn) encodes to exactly one id.
  void check_tokenizer(const Tokenizer& tokenizer) const;

  const std::string& name() const { return name_; }
  ChatFamily family() const { return family_; }
  // The token that ends an assistant turn: generation should stop on it.
  const std::string& end_of_turn() const { return end_of_turn_; }
  // What add_generation_prompt appends.
  std::string generation_prompt() const;

  // This template as Jinja, for tokenizer_config.json's "chat_template" (model/tokenizer/chat_template_jinja.cpp):
  // HF transformers' apply_chat_template, given bos_token as chat_metadata.h writes it, renders exactly what
  // render() gives with default options (DeepSeek-R1: the final assistant turn keeps its reasoning, see the
  // departure above), with and without add_generation_prompt; a role other than system/user/assistant calls
  // raise_exception. recognize() of the text gives this template back. r1 writes these texts itself; they are
  // not copies of the models' own templates.
  std::string jinja() const;

  // Parameters (set by by_name / recognize; adjustable).
  std::string bos_token;            // "" for ChatML
  std::string default_system;       // ChatML: inserted when there is no leading system message
  bool drop_reasoning = false;      // DeepSeek-R1: keep only the text after the last "</think>"
  bool open_think = false;          // generation prompt ends with "<think>\n"
  bool knowledge_preamble = false;  // Llama 3.1 system block
  std::string knowledge_cutoff = "December 2023";
  std::string date_string = "26 Jul 2024";

 private:
  ChatTemplate(ChatFamily family, std::string name);
  ChatFamily family_;
  std::string name_;
  std::string end_of_turn_;
};

// Ids and a per-id trainable mask (1 = in a trainable segment). Each segment is encoded on its own and
// the ids are concatenated: the prompt part is exactly what generation feeds the model and the
// assistant part is exactly what it would emit after it, which is the consistency SFT and RL need
// (encoding the whole string at once can merge tokens across that boundary).
struct ChatTokens {
  std::vector<int64_t> ids;
  std::vector<uint8_t> trainable;
};
ChatTokens tokenize_chat(const Tokenizer& tokenizer, const std::vector<ChatSegment>& segments);

}  // namespace r1::model
