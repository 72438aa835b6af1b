// Stage "train_tokenizer": trains a byte-level BPE tokenizer (model/tokenizer/tokenizer_train.h) on text JSONL files
// (each may be "stage:NAME/file.jsonl") plus extra literal texts, and writes tokenizer.json and
// tokenizer_config.json into the stage directory. The output path is that directory, so a later stage's
// model can say {"init_config": {...}, "tokenizer": "stage:NAME"}.
//
// Ids: 0..255 bytes, then special_tokens in order (256, 257, ...), then merges — the same first 256 + specials
// as the byte-level tokenizer of `byte_level_tokenizer`, so a recipe's bos/eos ids carry over.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rl/stage.h"

namespace r1::rl {

struct TrainTokenizerConfig {
  std::vector<std::string> data;         // JSONL files, "stage:NAME/file.jsonl" allowed
  std::string text_key = "text";
  std::vector<std::string> extra_texts;  // counted extra_texts_weight times each (e.g. the prompt template)
  int64_t extra_texts_weight = 1;
  int64_t vocab_size = 0;                // required
  std::vector<std::string> special_tokens;
  bool split_digits = true;
  int64_t min_frequency = 2;
  std::string bos_token, eos_token, pad_token;  // "" = not written to tokenizer_config.json

  template <class V>
  void visit(V& v) {
    v("data", data, "JSONL files of texts (stage:NAME/file.jsonl allowed)");
    v("text_key", text_key, "JSONL field holding the text");
    v("extra_texts", extra_texts, "literal texts counted too (e.g. the prompt template)");
    v("extra_texts_weight", extra_texts_weight, "each extra text counts as this many texts");
    v("vocab_size", vocab_size, "total vocabulary: 256 bytes + special_tokens + merges");
    v("special_tokens", special_tokens, "special tokens, ids 256, 257, ... in order");
    v("split_digits", split_digits, "one token per digit (false: digit runs may merge)");
    v("min_frequency", min_frequency, "pairs occurring fewer times are never merged");
    v("bos_token", bos_token, "BOS written to tokenizer_config.json (one of special_tokens; \"\" = none)");
    v("eos_token", eos_token, "EOS written to tokenizer_config.json (one of special_tokens; \"\" = none)");
    v("pad_token", pad_token, "PAD written to tokenizer_config.json (one of special_tokens; \"\" = none)");
  }
  void validate(const std::string& where) const;
};

std::unique_ptr<Stage> make_train_tokenizer_stage(const StageSpec& spec);

}  // namespace r1::rl
