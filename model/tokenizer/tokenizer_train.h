// Training a byte-level BPE tokenizer from text, written as a Hugging Face tokenizer.json that both
// r1::model::Tokenizer and HF `tokenizers` load unchanged.
//
// Layout of the ids: 0..255 are the 256 bytes in GPT-2's byte-level alphabet (id == byte value, as in
// make_byte_level_tokenizer_json), then the special tokens in the order given (ids 256, 257, ...; HF
// added_tokens with special=true), then one id per learned merge in the order learned. The file has a
// Split pre-tokenizer (a GPT-2 / Qwen2-like regex: contractions, letter runs with an optional leading
// space, single digits — or digit runs without split_digits —, punctuation runs, whitespace) followed by
// ByteLevel(add_prefix_space=false, use_regex=false), a BPE model with merges in "a b" form, and the
// ByteLevel decoder: the same shape as Qwen2's tokenizer.json.
//
// Algorithm (the classic one, as in HF's BpeTrainer): texts are cut at special-token occurrences (specials
// are never split or merged), the pieces are pre-tokenised with the very pre-tokenizer written to the
// file, and identical pre-tokens are counted once with their frequency. Pair counts over those words are
// then updated incrementally: a merge rewrites only the words that contain its pair and adjusts the
// counts of the pairs it destroys and creates, and a lazily-corrected max-heap picks the next pair. The
// most frequent pair wins; ties go to the pair whose (left, right) token strings (byte-level form) are
// lexicographically smallest, so the result never depends on hash or input order. Training stops at
// vocab_size tokens or when the best pair occurs fewer than min_frequency times. A merge whose result
// is already a token (two merge paths to one string) adds the merge but no new id, like the reference;
// a merge whose result would equal a special token's text is never made.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/tokenizer/tokenizer.h"

namespace r1::model {

struct BpeTrainerOptions {
  int64_t vocab_size = 0;                   // bytes + specials + merges; at least 256 + specials
  std::vector<std::string> special_tokens;  // ids 256.. in this order
  bool split_digits = true;                 // every digit its own pre-token (else runs of digits)
  int64_t min_frequency = 2;                // a pair occurring fewer times is never merged
};

struct BpeTrainResult {
  std::string tokenizer_json;                              // the tokenizer.json text
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order, byte-level token strings
  int64_t vocab_size = 0;                                   // tokens actually in the vocabulary
  int64_t words = 0;                                        // distinct pre-tokens counted
};

// Streaming trainer: add texts one at a time (only the word counts are kept), then train().
class BpeTrainer {
 public:
  // Throws r1::Error for bad options (vocab_size below 256 + specials, empty/duplicate specials, a special
  // that is a single byte token, min_frequency < 1).
  explicit BpeTrainer(BpeTrainerOptions options);
  ~BpeTrainer();
  BpeTrainer(const BpeTrainer&) = delete;
  BpeTrainer& operator=(const BpeTrainer&) = delete;

  // Cuts out special tokens, pre-tokenises and counts the words of one text, `weight` times (a text that
  // stands for many, e.g. a prompt template every training prompt will carry). Any bytes are accepted
  // (invalid UTF-8 becomes pre-tokens of its own, as in encoding).
  void add_text(std::string_view text, int64_t weight = 1);
  int64_t texts_added() const { return texts_; }
  int64_t bytes_added() const { return bytes_; }

  // Learns the merges. progress(done, wanted) is called every few merges and at the end.
  BpeTrainResult train(const std::function<void(int64_t, int64_t)>& progress = {}) const;

  const BpeTrainerOptions& options() const { return options_; }

 private:
  class Impl;
  BpeTrainerOptions options_;
  std::unique_ptr<Impl> impl_;
  int64_t texts_ = 0, bytes_ = 0;
};

// Adds the string field `key` of every line of a JSONL file as one text; returns the number of lines.
// A malformed line, a missing key or a non-string value is an r1::Error naming file:line.
int64_t add_jsonl_texts(BpeTrainer& trainer, const std::string& path, const std::string& key);

// One-shot form: returns the tokenizer.json text.
std::string train_byte_level_bpe(const std::vector<std::string>& texts, const BpeTrainerOptions& options);

// The Split regex of the pre-tokenizer (Oniguruma syntax, as written into tokenizer.json).
std::string bpe_split_pattern(bool split_digits);

// A tokenizer_config.json for a trained tokenizer: "tokenizer_class": "PreTrainedTokenizerFast" (so HF
// AutoTokenizer loads the directory) plus whichever of bos/eos/pad/unk tokens and add_bos/add_eos_token
// `config` sets.
std::string make_tokenizer_config_json(const TokenizerConfig& config);

// Writes tokenizer.json and tokenizer_config.json into dir (created; each write atomic), after checking
// that the pair loads through Tokenizer (bos/eos/pad must name tokens of the vocabulary).
void save_trained_tokenizer(const std::string& dir, const std::string& tokenizer_json, const TokenizerConfig& config);

}  // namespace r1::model
