// Pre-tokenizer regexes: HF `tokenizers` patterns (written for Oniguruma) run on PCRE2 with UTF + UCP.
//
// The Qwen2 / Llama-3 / DeepSeek-V3 patterns use \p{L}, \p{N}, \p{M}, \p{P}, \p{S}, (?i:...), lookahead
// (?!\S), possessive ?+ and \uHHHH escapes; PCRE2 has all of these except \uHHHH, which is rewritten to
// \x{HHHH}. The one real dialect difference is \s: PCRE2 10.42 counts U+180E as space, Oniguruma uses
// the Unicode White_Space property; \s and \S (outside classes) are therefore rewritten to the exact
// White_Space set. Oniguruma-Ruby's \h (hex digit) is rewritten too. Matching iterates like Oniguruma's
// find_iter in the `onig` crate (an empty match right after a match is skipped by one character), so
// even patterns that can match empty split the text where the reference splits it.
//
// Invalid UTF-8 in the subject never matches anything (PCRE2_MATCH_INVALID_UTF): such bytes end up in the
// gaps between matches. A match that fails with a resource limit throws r1::Error.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace r1::model {

// Byte ranges [begin, end) in the subject.
using Span = std::pair<size_t, size_t>;

class Regex {
 public:
  // `where` names the file and key for errors ("tokenizer.json: pre_tokenizer.pretokenizers[0].pattern").
  Regex(const std::string& onig_pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // All matches in s, left to right, with the onig crate's find_iter semantics (may include empty ones).
  std::vector<Span> find_all(std::string_view s) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;  // as written in the tokenizer file
  void* code_ = nullptr;  // pcre2_code_8*
  bool jit_ = false;
};

// The PCRE2 translation of an Oniguruma pattern (exposed for tests).
std::string translate_onig_pattern(const std::string& onig_pattern);

// Non-overlapping occurrences of a literal, left to right (Rust's str::match_indices).
std::vector<Span> find_literal(std::string_view s, std::string_view literal);

// Splits [0, n) into alternating gaps and matches: (span, is_match) in order, covering every byte.
// An empty subject gives one empty gap, like the reference.
std::vector<std::pair<Span, bool>> matches_to_splits(const std::vector<Span>& matches, size_t n);

}  // namespace r1::model
