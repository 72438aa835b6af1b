// Options of the R1 readability filters (datasets/filters/): one struct per filter, each with `enabled`
// and its thresholds, gathered in FilterOptions. Every option is listed once in a visit() with its default
// and help (common/config_io.h), so the same struct reads `--options JSON` / a recipe section with
// unknown-key errors, writes the resolved options and prints `r1 data filter --help`. The defaults and
// the reason for each are in docs/data_filters.md; the short reason is also the option's help text.
//
// DeepSeek-R1 (section 2.3.3) filtered its rejection-sampled SFT data for "chain-of-thought with mixed
// languages, long paragraphs, and code blocks"; it gives no thresholds, so the numbers below are ours.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/config_io.h"
#include "common/json.h"

namespace r1::data {

// What a completion without any <think> / </think> tag is made of.
enum class MissingThink {
  Cot,     // the whole completion is the chain of thought (as the language reward reads it); no answer
  Answer,  // the whole completion is the answer and the chain of thought is empty (non-reasoning data)
};
const std::vector<std::pair<MissingThink, const char*>>& enum_names(MissingThink);

struct MixedLanguageOptions {
  bool enabled = true;
  double min_target_share = 0.9;
  int64_t min_words = 5;
  bool ignore_single_letters = true;
  std::string default_lang;

  template <class V>
  void visit(V& v) {
    v("enabled", enabled, "drop chains of thought that mix languages (R1: 'mixed languages')");
    v("min_target_share", min_target_share,
      "drop when the share of CoT words in the target language's script is below this (0.9: one foreign word "
      "in ten is tolerated, e.g. a name or a term; the language reward's count)");
    v("min_words", min_words, "CoTs with fewer counted words are never mixed (too short to judge)");
    v("ignore_single_letters", ignore_single_letters,
      "single-letter words outside CJK (x, θ, π: math variables) are not counted");
    v("default_lang", default_lang,
      "target language when the row has no target_lang (\"\": the prompt's dominant script, else the CoT's)");
  }
};

struct LongParagraphOptions {
  bool enabled = true;
  int64_t max_chars = 2000;

  template <class V>
  void visit(V& v) {
    v("enabled", enabled, "drop chains of thought with an overlong paragraph (R1: 'long paragraphs')");
    v("max_chars", max_chars,
      "drop when a paragraph (text between blank lines) has more Unicode code points than this (2000: about "
      "a page of English, far above the few hundred of a readable reasoning step)");
  }
};

struct CodeBlockOptions {
  bool enabled = true;
  bool fenced = true;
  bool indented = true;
  int64_t min_indented_lines = 2;

  template <class V>
  void visit(V& v) {
    v("enabled", enabled, "drop chains of thought that contain code blocks (R1: 'code blocks')");
    v("fenced", fenced, "``` or ~~~ fences inside the CoT are code");
    v("indented", indented,
      "runs of lines indented by 4+ spaces or a tab (outside display math, not list items) are code");
    v("min_indented_lines", min_indented_lines, "indented lines a run needs to count as a code block (1 line is "
      "more often an indented formula than code)");
  }
};

struct TruncatedOptions {
  bool enabled = true;

  template <class V>
  void visit(V& v) {
    v("enabled", enabled,
      "drop samples cut at the length limit: the row says truncated, or <think> is never closed (an unfinished "
      "thought is not a training target)");
  }
};

struct NoAnswerOptions {
  bool enabled = true;
  int64_t min_chars = 1;

  template <class V>
  void visit(V& v) {
    v("enabled", enabled, "drop samples without a summary after </think> (R1's format: CoT, then a summary)");
    v("min_chars", min_chars, "non-space code points the answer needs");
  }
};

struct RepetitionOptions {
  bool enabled = true;
  int64_t ngram_size = 10;
  double max_repeated_share = 0.5;

  template <class V>
  void visit(V& v) {
    v("enabled", enabled, "drop degenerate, looping chains of thought");
    v("ngram_size", ngram_size,
      "n of the word n-grams (10: long enough that ordinary reasoning rarely repeats one, as the repetition "
      "reward counts words)");
    v("max_repeated_share", max_repeated_share,
      "drop when more than this share of the CoT's n-grams are repeats (1 - distinct/all; 0.5: half the text "
      "says again what it already said)");
  }
};

struct DuplicateOptions {
  bool enabled = true;
  bool near = true;
  double near_threshold = 0.8;
  int64_t shingle_size = 5;

  template <class V>
  void visit(V& v) {
    v("enabled", enabled,
      "drop exact duplicates (same text up to whitespace) of a kept sample of the same prompt (no training "
      "signal, skews the mix)");
    v("near", near, "also drop near duplicates");
    v("near_threshold", near_threshold,
      "near duplicate: Jaccard similarity of word shingles with a kept sample of the same prompt at least this "
      "(0.8: the same solution with a few words changed)");
    v("shingle_size", shingle_size, "words per shingle");
  }
};

struct FilterOptions {
  MissingThink missing_think = MissingThink::Cot;
  MixedLanguageOptions mixed_language;
  LongParagraphOptions long_paragraph;
  CodeBlockOptions code_block;
  TruncatedOptions truncated;
  NoAnswerOptions no_answer;
  RepetitionOptions repetition;
  DuplicateOptions duplicate;

  template <class V>
  void visit(V& v) {
    v("missing_think", missing_think,
      "a completion with no <think>/</think> tag: cot = it is all chain of thought (fails truncated and "
      "no_answer) | answer = it is all answer, with an empty CoT (data without reasoning)");
    v("mixed_language", mixed_language, "the mixed_language filter");
    v("long_paragraph", long_paragraph, "the long_paragraph filter");
    v("code_block", code_block, "the code_block filter");
    v("truncated", truncated, "the truncated filter");
    v("no_answer", no_answer, "the no_answer filter");
    v("repetition", repetition, "the repetition filter");
    v("duplicate", duplicate, "the duplicate filter");
  }
  // Ranges and codes: an r1::Error naming `where` and the option.
  void validate(const std::string& where) const;
};

// Reads options from a JSON object (null: all defaults); unknown or misspelt options are errors naming
// `where` and the option.
FilterOptions read_filter_options(const json::Value& options, const std::string& where);

}  // namespace r1::data
