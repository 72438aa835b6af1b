// The duplicate filter's memory: the samples kept so far, per group (the prompt), and the test of a new
// sample against them.
//
// Exact duplicate: the same text once white space is collapsed (runs of spaces, tabs and newlines → one
// space, ends trimmed); compared by a 64-bit hash of that text. Near duplicate: the Jaccard similarity
// |A∩B| / |A∪B| of the two texts' sets of word shingles (runs of `shingle_size` consecutive words, words
// as rewards/text_words.h splits them, ASCII lower-cased, <think> tags left out; a text shorter than one
// shingle is one shingle)
// is at least `near_threshold` (texts without words are compared exactly only). The whole completion is compared (CoT and answer). Memory: one hash per
// kept sample plus, with near on, 8 bytes per shingle of each kept sample; a streaming caller frees a
// group with forget() when it is done with a prompt.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "datasets/filters/options.h"

namespace r1::data {

// The white-space-normalised text that exact duplicates share.
std::string normalize_whitespace(std::string_view text);
// The sorted, distinct shingle hashes of a text.
std::vector<uint64_t> shingles(std::string_view text, size_t shingle_size);
// |A∩B| / |A∪B| of two sorted distinct hash lists (1 when both are empty).
double jaccard(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);

class DuplicateIndex {
 public:
  explicit DuplicateIndex(DuplicateOptions options) : options_(std::move(options)) {}

  // True when `text` duplicates (exactly or, with near on, nearly) a sample remembered in `group`.
  bool is_duplicate(std::string_view group, std::string_view text) const;
  void remember(std::string_view group, std::string_view text);
  void forget(std::string_view group);
  size_t groups() const { return groups_.size(); }

 private:
  struct Group {
    std::unordered_set<uint64_t> exact;
    std::vector<std::vector<uint64_t>> shingle_sets;
  };
  DuplicateOptions options_;
  std::unordered_map<uint64_t, Group> groups_;  // by hash of the group key
};

}  // namespace r1::data
