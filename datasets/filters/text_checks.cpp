// See text_checks.h.
#include "datasets/filters/text_checks.h"

#include <string>

namespace r1::data {

size_t code_points(std::string_view text) {
  size_t n = 0;
  for (size_t i = 0; i < text.size(); ++n) rewards::next_code_point(text, i);
  return n;
}

LanguageShare language_share(std::string_view cot, const std::vector<rewards::Script>& target,
                             bool ignore_single_letters) {
  std::string stripped;
  std::vector<rewards::Word> words;
  rewards::language_words(cot, stripped, words);
  if (ignore_single_letters) {
    std::vector<rewards::Word> kept;
    kept.reserve(words.size());
    for (const rewards::Word& w : words)
      if (rewards::is_per_character_script(w.script) || code_points(w.text) > 1) kept.push_back(w);
    words.swap(kept);
  }
  LanguageShare s;
  s.words = words.size();
  s.in_target = rewards::count_in_scripts(words, target);
  return s;
}

size_t longest_paragraph(std::string_view cot) {
  size_t longest = 0;
  size_t para_begin = std::string_view::npos, para_end = 0;  // byte span of the current paragraph
  auto close = [&] {
    if (para_begin != std::string_view::npos) {
      const size_t n = code_points(cot.substr(para_begin, para_end - para_begin));
      if (n > longest) longest = n;
    }
    para_begin = std::string_view::npos;
  };
  size_t pos = 0;
  while (pos <= cot.size()) {
    size_t eol = cot.find('\n', pos);
    if (eol == std::string_view::npos) eol = cot.size();
    const std::string_view line = cot.substr(pos, eol - pos);
    const size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) {
      close();
    } else {
      const size_t last = line.find_last_not_of(" \t\r");
      if (para_begin == std::string_view::npos) para_begin = pos + first;
      para_end = pos + last + 1;
    }
    pos = eol + 1;
  }
  close();
  return longest;
}

double repeated_ngram_share(std::string_view cot, size_t n) {
  std::vector<rewards::Word> words;
  rewards::split_words(cot, words);
  const rewards::NgramCounts c = rewards::count_ngrams(words, n);
  if (c.total == 0) return 0.0;
  return 1.0 - static_cast<double>(c.distinct) / static_cast<double>(c.total);
}

}  // namespace r1::data
