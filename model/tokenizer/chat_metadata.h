// The Hugging Face metadata of a chat model's tokenizer: what a model trained with a chat template carries in
// its tokenizer files so that transformers (AutoTokenizer + apply_chat_template) and r1 (Tokenizer::load +
// ChatTemplate::resolve("")) both render conversations as training did, and generation ends at the end of
// an assistant turn.
//
// The choices (chat_special_tokens):
//   eos_token  the template's end-of-turn token (<｜end▁of▁sentence｜>, <|im_end|>, <|eot_id|>): a chat model
//              ends its answer there, and HF generate / r1 stop on eos_token. The tokenizer's previous eos
//              (e.g. <|endoftext|> of a base model) stays a stop id through generation_config.json
//              (model/hf_checkpoint.h generation_config_with_eos) and the model's config.json.
//   bos_token  the template's BOS (DeepSeek, Llama 3: its Jinja prints bos_token); ChatML has none, so the
//              tokenizer's own setting is kept.
//   pad_token  the tokenizer's own; else its previous eos when that is not the end-of-turn token (Qwen2.5's
//              choice: padding never looks like the end of an answer); else the end-of-turn token
//              (DeepSeek's choice, for tokenizers with nothing else).
#pragma once

#include <optional>
#include <string>

#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/tokenizer.h"

namespace r1::model {

struct ChatSpecialTokens {
  std::optional<std::string> bos;
  std::string eos;
  std::string pad;
};

// The special tokens a model trained with `chat` on `tok` gets (see the choices above).
ChatSpecialTokens chat_special_tokens(const ChatTemplate& chat, const Tokenizer& tok);

// Makes dst_dir (emptied first; not src_dir) a copy of src_dir's tokenizer files (copy_tokenizer_files) that
// describes a model trained with `chat`:
//   tokenizer_config.json    every key of the source kept, plus or replaced: chat_template, bos_token,
//                            eos_token, pad_token (chat_special_tokens); clean_up_tokenization_spaces false
//                            when unset (r1 decodes without HF's clean-up of spaces before punctuation);
//                            tokenizer_class PreTrainedTokenizerFast when unset and the tokenizer is a
//                            tokenizer.json (so AutoTokenizer loads the directory).
//   special_tokens_map.json  every key of the source kept, bos/eos/pad_token as above.
// chat_template is the tokenizer's own Jinja text when it is recognised as `chat` (left where it was), else
// chat.jinja() in tokenizer_config.json with the source's chat_template.jinja / chat_template.json left out
// (transformers would prefer them). Afterwards the directory is loaded back and must resolve to `chat` with
// eos_token the end-of-turn token; tok is the tokenizer loaded from src_dir. Throws r1::Error naming the file.
void write_chat_tokenizer_dir(const std::string& src_dir, const std::string& dst_dir, const ChatTemplate& chat,
                              const Tokenizer& tok);

}  // namespace r1::model
