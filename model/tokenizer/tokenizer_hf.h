// The Hugging Face tokenizer.json tokenizer: added tokens → normalizer → pre-tokenizer → BPE model →
// post-processor, and ids → tokens → decoder chain.
//
// The pipeline is the reference's, in the reference's order (see tokenizer_added.h for how added tokens
// are cut out first, tokenizer_pretokenizer.h for the byte-level alphabet, tokenizer_bpe.h for merges).
// Post-processors: TemplateProcessing (the "single" template: special tokens around sequence A),
// BertProcessing / RobertaProcessing (cls A sep), ByteLevel (nothing to do for ids) and Sequence.
// Only BPE models are supported; WordPiece / Unigram / WordLevel tokenizer.json files are a clear error
// (sentencepiece unigram models load through their .model file instead).
#pragma once

#include <memory>
#include <string>

#include "common/json.h"
#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/tokenizer_added.h"
#include "model/tokenizer/tokenizer_bpe.h"
#include "model/tokenizer/tokenizer_decoder.h"
#include "model/tokenizer/tokenizer_normalizer.h"
#include "model/tokenizer/tokenizer_pretokenizer.h"

namespace r1::model {

class HfTokenizer : public Tokenizer {
 public:
  // Parses a tokenizer.json document; `path` names it in errors.
  HfTokenizer(const json::Value& doc, const std::string& path, TokenizerConfig config);

  std::vector<int64_t> encode(std::string_view text, bool add_special_tokens = false,
                              bool parse_special = true) const override;
  std::string decode_range(const int64_t* ids, size_t n, bool skip_special_tokens) const override;
  int64_t vocab_size() const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  std::string id_to_token(int64_t id) const override;
  bool is_special(int64_t id) const override;
  const char* kind() const override { return "tokenizer.json"; }

 private:
  // Ids added around the sequence by the post-processor.
  struct Template {
    std::vector<int32_t> prefix, suffix;
    // Puts `outer`'s ids around these (each processor of a Sequence wraps what the earlier ones added).
    void wrap_in(const Template& outer) {
      prefix.insert(prefix.begin(), outer.prefix.begin(), outer.prefix.end());
      suffix.insert(suffix.end(), outer.suffix.begin(), outer.suffix.end());
    }
  };
  void read_post_processor(const json::Value& v, const std::string& where);
  const std::string* token_of(int64_t id) const;

  AddedVocabulary added_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<Decoder> decoder_;
  Template template_;
};

}  // namespace r1::model
