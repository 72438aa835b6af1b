// The R1 readability filters as one object: per completion, the list of every filter that rejects it,
// and a stats accumulator (rows, kept, dropped per filter) — what `r1 data filter` runs on each row and
// what a rejection-sampling stage calls on each correct sample.
//
// The filters, in the order they are reported (docs/data_filters.md has each option, default and reason):
//   mixed_language  share of CoT words in the target language's script below a threshold
//   long_paragraph  a CoT paragraph (between blank lines) longer than N code points
//   code_block      fenced or indented code inside the CoT (display math is not code; the answer is not looked at)
//   truncated       the row says the sample was cut at the length limit, or the CoT is never closed
//   no_answer       nothing (but white space) after </think>
//   repetition      the share of repeated word n-grams in the CoT above a threshold
//   duplicate       an exact or near copy of a sample already kept for the same prompt
// The CoT and answer are cut as completion_parts.h says. The target language of mixed_language is, in
// order: the sample's `target_lang`, the option `default_lang`, the dominant script of the prompt
// (rewards/text_words.h detect_scripts, as the language reward does), and — when there is no prompt
// text either — the dominant script of the CoT itself (then only a CoT mixing scripts fails).
//
// check() is const and thread-safe against other check() calls; remember()/apply()/forget_group() are
// not. A caller that keeps samples for its own reasons (correctness, a quota) uses check(), then
// remember() on the samples it keeps and FilterStats::add() on every sample it filtered.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/json.h"
#include "datasets/filters/duplicates.h"
#include "datasets/filters/options.h"

namespace r1::data {

enum class Filter { MixedLanguage, LongParagraph, CodeBlock, Truncated, NoAnswer, Repetition, Duplicate };
inline constexpr size_t kFilterCount = 7;
const char* filter_name(Filter f);
// Every filter, in report order.
const std::array<Filter, kFilterCount>& all_filters();

struct FilterInput {
  std::string_view completion;
  std::string_view prompt;       // language detection when target_lang is empty; the default duplicate group
  std::string_view target_lang;  // ISO code (en, zh, ja, ...); "" = none. An unknown code is an r1::Error
  bool truncated = false;        // the generator stopped at its length limit (a row's "truncated": true)
  std::optional<std::string_view> group;  // duplicates are looked for within a group; unset = the prompt
};

// Counts of filtered samples. A dropped sample counts once in `dropped` and once under each filter it
// failed, so the per-filter counts can sum to more than `dropped`.
struct FilterStats {
  size_t rows = 0;
  size_t kept = 0;
  size_t dropped = 0;
  std::array<size_t, kFilterCount> dropped_by{};
  size_t skipped_bad = 0;  // input lines that were not samples (only a caller that skips them counts them)

  void add(const std::vector<Filter>& failed);
  void merge(const FilterStats& other);
  // {"rows", "kept", "dropped", "dropped_by": {name: n, ... every filter}, "skipped_bad_lines"}
  json::Document to_json() const;
};

// The names of the failed filters, as written in a row's "reasons".
std::vector<std::string> filter_names(const std::vector<Filter>& failed);

class ReadabilityFilter {
 public:
  explicit ReadabilityFilter(FilterOptions options);  // validates the options

  // Every enabled filter that rejects the sample, in report order; empty = the sample passes. The
  // duplicate filter compares with the samples remembered so far and remembers nothing.
  std::vector<Filter> check(const FilterInput& sample) const;
  // Remembers a kept sample for the duplicate filter of its group.
  void remember(const FilterInput& sample);
  // check(), stats().add(), and remember() when the sample passes.
  std::vector<Filter> apply(const FilterInput& sample);
  // Frees the remembered samples of a group (a streaming caller done with a prompt).
  void forget_group(std::string_view group) { duplicates_.forget(group); }

  const FilterOptions& options() const { return options_; }
  const FilterStats& stats() const { return stats_; }
  FilterStats& stats() { return stats_; }

 private:
  bool mixed_language(std::string_view cot, const FilterInput& sample) const;

  FilterOptions options_;
  DuplicateIndex duplicates_;
  FilterStats stats_;
};

}  // namespace r1::data
