// Added tokens (tokenizer.json "added_tokens", tokenizer_config.json "added_tokens_decoder"): strings that
// are cut out of the text before normalisation and pre-tokenisation and become one id each.
//
// Matching follows the reference AddedVocabulary: first the tokens with normalized=false are found in the
// raw text, then each remaining text segment is normalised and the tokens with normalized=true (their
// content normalised the same way) are found in it. Within one pass the search is leftmost-longest over
// all tokens, non-overlapping; single_word requires no word character (alphanumeric or '_') on either
// side; lstrip / rstrip widen the match over adjacent Unicode whitespace (lstrip never reaches back into
// the previous match). With parse_special=false the special tokens are still found but skipped, so they
// stay text — the reference's encode_special_tokens.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/tokenizer/tokenizer_normalizer.h"
#include "model/tokenizer/tokenizer_regex.h"

namespace r1::model {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false, lstrip = false, rstrip = false, single_word = false, normalized = false;
};

// A piece of the input: an added token (id >= 0) or text still to be tokenized.
struct Segment {
  int32_t id = -1;
  std::string text;
  bool at_start = false;  // text begins at byte 0 of the input
};

class AddedVocabulary {
 public:
  // Adds tokens; call build() once after the last add().
  void add(AddedToken token);
  // normalizer may be null; it normalises the content of normalized=true tokens.
  void build(const Normalizer* normalizer);

  // Cuts text into segments; text segments come back normalised.
  std::vector<Segment> split(std::string_view text, const Normalizer* normalizer, bool parse_special) const;

  const AddedToken* by_id(int32_t id) const;
  std::optional<int32_t> by_content(std::string_view content) const;
  bool empty() const { return tokens_.empty(); }
  int32_t id_limit() const { return id_limit_; }
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie over the patterns: the longest match at a position is one walk down from the root.
  struct Matcher {
    struct Node {
      std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
      int32_t token = -1;                                  // tokens_ index when a pattern ends here
    };
    std::vector<Node> nodes;  // nodes[0] is the root
    // Length of the longest pattern starting at text[i] (0 when none) and its token index.
    size_t longest_at(std::string_view text, size_t i, int32_t* token) const;
  };
  void build_matcher(Matcher& m, const std::vector<std::pair<std::string, size_t>>& patterns);
  // Appends the segments of one text piece, using matcher m.
  void split_with(const Matcher& m, std::string_view text, bool at_start, bool parse_special,
                  std::vector<Segment>& out) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
  Matcher raw_, normalized_;
  std::unique_ptr<Regex> word_char_;  // one alphanumeric-or-underscore character
  int32_t id_limit_ = 0;
};

}  // namespace r1::model
