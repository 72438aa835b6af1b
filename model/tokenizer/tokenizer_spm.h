// Sentencepiece .model tokenizers through libsentencepiece (BPE and unigram, byte fallback, user-defined
// symbols — all handled by the library, which is the reference).
//
// On top of the library: tokens from tokenizer_config.json's added_tokens_decoder that the .model does
// not hold are cut out of the text first (as transformers' slow tokenizers do), add_special_tokens adds
// BOS (add_bos_token, default true when the model has one) and EOS (add_eos_token, default false), and
// decode() writes control pieces (<s>, </s>) and <unk> as their piece text unless skipped — the library
// alone would drop them silently. Runs of ordinary ids between such tokens are decoded by the library.
//
// Invalid UTF-8 input is replaced by U+FFFD before the library sees it (the library rejects it).
// The library is reached through a dlopen()ed shim (tokenizer_spm_lib.h): linking it directly crashes
// any process that also loads LibTorch.
#pragma once

#include <memory>
#include <string>

#include "model/tokenizer/tokenizer.h"
#include "model/tokenizer/tokenizer_added.h"
#include "model/tokenizer/tokenizer_spm_lib.h"

namespace r1::model {

class SpmTokenizer : public Tokenizer {
 public:
  SpmTokenizer(const std::string& path, TokenizerConfig config, std::vector<AddedToken> extra_tokens);
  ~SpmTokenizer() override;

  std::vector<int64_t> encode(std::string_view text, bool add_special_tokens = false,
                              bool parse_special = true) const override;
  std::string decode_range(const int64_t* ids, size_t n, bool skip_special_tokens) const override;
  int64_t vocab_size() const override;
  std::optional<int64_t> token_to_id(std::string_view token) const override;
  std::string id_to_token(int64_t id) const override;
  bool is_special(int64_t id) const override;
  const char* kind() const override { return "sentencepiece"; }

 private:
  void encode_text(const std::string& text, std::vector<int64_t>& out) const;
  std::unique_ptr<SentencePieceLib> sp_;  // libsentencepiece via the dlopen()ed shim
  AddedVocabulary added_;
  int64_t piece_size_ = 0;
};

}  // namespace r1::model
