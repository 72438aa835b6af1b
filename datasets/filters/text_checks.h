// The measurements behind the mixed_language, long_paragraph and repetition filters, on a chain of thought.
//
// - language_share: words counted as the language reward counts them (rewards/text_words.h
//   language_words + count_in_scripts: markup and fenced code stripped, each CJK character one word),
//   optionally leaving out single-letter words of non-CJK scripts (math variables such as x, θ, π).
// - longest_paragraph: paragraphs are separated by blank lines (lines of spaces, tabs or \r only); length
//   in Unicode code points (so a Chinese paragraph is not three times longer than its English twin), leading
//   and trailing white space excluded; invalid UTF-8 bytes count one each.
// - repeated_ngram_share: 1 - distinct/all word n-grams, as the repetition reward counts them
//   (rewards/text_words.h count_ngrams); 0 for text shorter than one n-gram.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "rewards/text_words.h"

namespace r1::data {

struct LanguageShare {
  size_t words = 0;      // counted words
  size_t in_target = 0;  // of which in a target script
  double share() const { return words == 0 ? 1.0 : static_cast<double>(in_target) / static_cast<double>(words); }
};
LanguageShare language_share(std::string_view cot, const std::vector<rewards::Script>& target,
                             bool ignore_single_letters);

// Code points of the longest paragraph (0 for blank text).
size_t longest_paragraph(std::string_view cot);

double repeated_ngram_share(std::string_view cot, size_t n);

// Unicode code points of a UTF-8 text (an invalid byte counts one).
size_t code_points(std::string_view text);

}  // namespace r1::data
