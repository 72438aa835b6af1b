// See options.h: enum names, range checks and reading of the filter options.
#include "datasets/filters/options.h"

#include "common/error.h"
#include "rewards/text_words.h"

namespace r1::data {

const std::vector<std::pair<MissingThink, const char*>>& enum_names(MissingThink) {
  static const std::vector<std::pair<MissingThink, const char*>> names = {{MissingThink::Cot, "cot"},
                                                                           {MissingThink::Answer, "answer"}};
  return names;
}

void FilterOptions::validate(const std::string& where) const {
  const MixedLanguageOptions& m = mixed_language;
  R1_CHECK(m.min_target_share >= 0 && m.min_target_share <= 1, where,
           ": option 'mixed_language.min_target_share' must be in [0, 1], got ", m.min_target_share);
  R1_CHECK(m.min_words >= 0, where, ": option 'mixed_language.min_words' must be >= 0, got ", m.min_words);
  R1_CHECK(m.default_lang.empty() || !rewards::scripts_of_language(m.default_lang).empty(), where,
           ": option 'mixed_language.default_lang': unknown language code '", m.default_lang,
           "' (use ISO 639-1 codes: en, zh, ja, ko, ru, ar, hi, ...)");
  R1_CHECK(long_paragraph.max_chars >= 1, where, ": option 'long_paragraph.max_chars' must be >= 1, got ",
           long_paragraph.max_chars);
  R1_CHECK(code_block.min_indented_lines >= 1, where, ": option 'code_block.min_indented_lines' must be >= 1, got ",
           code_block.min_indented_lines);
  R1_CHECK(no_answer.min_chars >= 0, where, ": option 'no_answer.min_chars' must be >= 0, got ", no_answer.min_chars);
  R1_CHECK(repetition.ngram_size >= 1 && repetition.ngram_size <= 64, where,
           ": option 'repetition.ngram_size' must be in [1, 64], got ", repetition.ngram_size);
  R1_CHECK(repetition.max_repeated_share >= 0 && repetition.max_repeated_share <= 1, where,
           ": option 'repetition.max_repeated_share' must be in [0, 1], got ", repetition.max_repeated_share);
  R1_CHECK(duplicate.near_threshold > 0 && duplicate.near_threshold <= 1, where,
           ": option 'duplicate.near_threshold' must be in (0, 1], got ", duplicate.near_threshold);
  R1_CHECK(duplicate.shingle_size >= 1 && duplicate.shingle_size <= 64, where,
           ": option 'duplicate.shingle_size' must be in [1, 64], got ", duplicate.shingle_size);
}

FilterOptions read_filter_options(const json::Value& options, const std::string& where) {
  FilterOptions out;
  if (!options.IsNull()) ConfigReader::read_struct(options, where, out, "option");
  out.validate(where);
  return out;
}

}  // namespace r1::data
