// `r1 generate --chat` / `--chat-file`: conversations in, the model's chat template applied with the generation
// prompt, sampling until the template's end-of-turn token, the assistant's text out.
//
//   --chat '[{"role": "user", "content": "What is 2+3?"}]'   one conversation (a JSON list of messages);
//                                    prints the assistant text, and "[N tokens, finish: eos]" on stderr
//   --chat-file rows.jsonl           one conversation per line ({"messages": [...]}, as in SFT data); prints
//                                    one JSON line per row: {"row", "text", "finish"} (conversations are
//                                    generated together as one left-padded batch)
//   --chat-template NAME             a built-in template instead of the model's own (tokenizer_config.json)
//   --tokens                         JSON lines for --chat too, with "tokens": the generated ids
//
// The prompt is tokenize_chat() of the template's segments (exactly the ids SFT trained on, BOS included, no
// special tokens added on top). Generation stops at the end-of-turn token as well as at the model's and the
// tokenizer's eos ids; "text" is the decoded tokens without that final stop token (special tokens a model
// writes inside its answer are kept, so a template marker in the text means the model produced it).
// "finish" is eos (a stop id), stop (a --stop string) or length (--max-new-tokens). Bad input is an r1::Error
// naming the option or file:line and the message ("--chat[1]: missing required key 'content'").
#pragma once

#include <string>
#include <vector>

#include "common/chat_message.h"
#include "model/causal_lm.h"
#include "model/generate.h"
#include "model/tokenizer/tokenizer.h"

namespace r1::cli {

struct ChatRequest {
  std::string messages_json;  // --chat
  std::string file;           // --chat-file
  std::string template_name;  // --chat-template ("" = the model's)
  bool tokens = false;        // --tokens
};

// The conversations of --chat or --chat-file (exactly one of them set).
std::vector<std::vector<ChatMessage>> read_chat_request(const ChatRequest& r);

// Generates the assistant turn of every conversation and prints it (see above). `g` holds the sampling
// settings and the model's stop ids; the template's end-of-turn id is added here.
void generate_chat(const ChatRequest& r, const model::CausalLM& m, const model::Tokenizer& tok,
                   model::GenerationConfig g);

}  // namespace r1::cli
