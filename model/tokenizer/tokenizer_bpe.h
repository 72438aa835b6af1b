// The BPE model of HF tokenizer.json ("model": {"type": "BPE", ...}): vocab, merges and the flags that
// change how a piece becomes ids (unk_token, fuse_unk, byte_fallback, ignore_merges,
// continuing_subword_prefix, end_of_word_suffix).
//
// Algorithm (the reference's word-level merge loop, reproduced exactly): a piece starts as one symbol per
// character; all adjacent pairs that have a merge go into a min-heap keyed by (merge rank, position);
// the top pair is merged unless it went stale (one side already merged away), and the two new pairs it
// forms with its neighbours are pushed. Ties between equal ranks go to the leftmost pair, which is what
// makes "aaa" → "aa a" rather than "a aa". A pair → (rank, merged id) hash map makes each step O(log n).
//
// A cache maps a piece (up to 256 bytes) to its ids, so repeated words cost one hash lookup; it is
// guarded by a shared mutex and cleared when it reaches its capacity.
//
// Merges may be written "a b" (one space) or ["a", "b"]; when the same pair appears twice the later rank
// wins (the reference builds a hash map from the list). Unknown tokens in merges and merged tokens that
// are not in the vocab are load errors, as in the reference. dropout other than null/0 is rejected
// (it makes encoding random).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/json.h"

namespace r1::model {

class BpeModel {
 public:
  // Reads v = tokenizer.json's "model" object. `where` names the file and key ("f.json: model").
  BpeModel(const json::Value& v, const std::string& where);

  // Appends the ids of one pre-tokenized piece.
  void tokenize(const std::string& piece, std::vector<int32_t>& out) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // nullptr when the id has no token.
  const std::string* id_to_token(int32_t id) const;
  // One more than the largest id in the vocab.
  int32_t id_limit() const { return static_cast<int32_t>(vocab_r_.size()); }
  size_t merge_count() const { return merges_.size(); }

 private:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }
  std::optional<int32_t> lookup(std::string_view s) const;
  void merge_word(const std::string& piece, std::vector<int32_t>& out) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> vocab_r_;
  std::vector<uint8_t> has_id_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::optional<int32_t> unk_id_;
  bool fuse_unk_ = false, byte_fallback_ = false, ignore_merges_ = false;
  std::string continuing_subword_prefix_, end_of_word_suffix_;
  std::vector<int32_t> small_char_id_;  // code point < 0x800 → id of that one-character token, or -1

  static constexpr size_t kCacheCapacity = 65536;
  static constexpr size_t kCacheMaxPieceBytes = 256;
  mutable std::shared_mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace r1::model
