// See readability_filter.h.
#include "datasets/filters/readability_filter.h"

#include "common/error.h"
#include "datasets/filters/code_blocks.h"
#include "datasets/filters/completion_parts.h"
#include "datasets/filters/text_checks.h"
#include "rewards/text_words.h"

namespace r1::data {

const char* filter_name(Filter f) {
  switch (f) {
    case Filter::MixedLanguage: return "mixed_language";
    case Filter::LongParagraph: return "long_paragraph";
    case Filter::CodeBlock: return "code_block";
    case Filter::Truncated: return "truncated";
    case Filter::NoAnswer: return "no_answer";
    case Filter::Repetition: return "repetition";
    case Filter::Duplicate: return "duplicate";
  }
  return "?";
}

const std::array<Filter, kFilterCount>& all_filters() {
  static const std::array<Filter, kFilterCount> all = {Filter::MixedLanguage, Filter::LongParagraph,
                                                       Filter::CodeBlock,     Filter::Truncated,
                                                       Filter::NoAnswer,      Filter::Repetition,
                                                       Filter::Duplicate};
  return all;
}

std::vector<std::string> filter_names(const std::vector<Filter>& failed) {
  std::vector<std::string> out;
  out.reserve(failed.size());
  for (Filter f : failed) out.emplace_back(filter_name(f));
  return out;
}

void FilterStats::add(const std::vector<Filter>& failed) {
  ++rows;
  if (failed.empty()) {
    ++kept;
    return;
  }
  ++dropped;
  for (Filter f : failed) ++dropped_by[static_cast<size_t>(f)];
}

void FilterStats::merge(const FilterStats& o) {
  rows += o.rows;
  kept += o.kept;
  dropped += o.dropped;
  skipped_bad += o.skipped_bad;
  for (size_t i = 0; i < kFilterCount; ++i) dropped_by[i] += o.dropped_by[i];
}

json::Document FilterStats::to_json() const {
  json::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  doc.AddMember("rows", json::Value(static_cast<uint64_t>(rows)), a);
  doc.AddMember("kept", json::Value(static_cast<uint64_t>(kept)), a);
  doc.AddMember("dropped", json::Value(static_cast<uint64_t>(dropped)), a);
  json::Value by(rapidjson::kObjectType);
  for (Filter f : all_filters())
    by.AddMember(json::Value(rapidjson::StringRef(filter_name(f))),
                 json::Value(static_cast<uint64_t>(dropped_by[static_cast<size_t>(f)])), a);
  doc.AddMember("dropped_by", by, a);
  doc.AddMember("skipped_bad_lines", json::Value(static_cast<uint64_t>(skipped_bad)), a);
  return doc;
}

ReadabilityFilter::ReadabilityFilter(FilterOptions options)
    : options_(std::move(options)), duplicates_(options_.duplicate) {
  options_.validate("filter options");
}

bool ReadabilityFilter::mixed_language(std::string_view cot, const FilterInput& sample) const {
  const MixedLanguageOptions& o = options_.mixed_language;
  std::vector<rewards::Script> target;
  if (!sample.target_lang.empty()) {
    target = rewards::scripts_of_language(std::string(sample.target_lang));
    R1_CHECK(!target.empty(), "unknown language code '", sample.target_lang,
             "' in target_lang (use ISO 639-1 codes: en, zh, ja, ko, ru, ar, hi, ...)");
  } else if (!o.default_lang.empty()) {
    target = rewards::scripts_of_language(o.default_lang);
  } else {
    target = rewards::detect_scripts(sample.prompt);
    if (target.empty()) target = rewards::detect_scripts(cot);
  }
  if (target.empty()) return false;  // neither prompt nor CoT has a word: nothing is mixed
  const LanguageShare share = language_share(cot, target, o.ignore_single_letters);
  if (share.words < static_cast<size_t>(o.min_words)) return false;
  return share.share() < o.min_target_share;
}

std::vector<Filter> ReadabilityFilter::check(const FilterInput& sample) const {
  std::vector<Filter> failed;
  const CompletionParts parts = split_completion(sample.completion, options_.missing_think);
  const std::string_view cot = parts.cot;
  if (options_.mixed_language.enabled && mixed_language(cot, sample)) failed.push_back(Filter::MixedLanguage);
  if (options_.long_paragraph.enabled &&
      longest_paragraph(cot) > static_cast<size_t>(options_.long_paragraph.max_chars))
    failed.push_back(Filter::LongParagraph);
  if (options_.code_block.enabled) {
    const CodeBlockFound code = find_code_blocks(cot, static_cast<size_t>(options_.code_block.min_indented_lines));
    if ((options_.code_block.fenced && code.fenced) || (options_.code_block.indented && code.indented))
      failed.push_back(Filter::CodeBlock);
  }
  if (options_.truncated.enabled && (sample.truncated || parts.unclosed)) failed.push_back(Filter::Truncated);
  if (options_.no_answer.enabled) {
    size_t visible = 0;
    for (size_t i = 0; i < parts.answer.size();) {
      const uint32_t cp = rewards::next_code_point(parts.answer, i);
      if (cp != ' ' && cp != '\t' && cp != '\n' && cp != '\r' && cp != '\f' && cp != '\v' && cp != 0xA0 &&
          cp != 0x3000)
        ++visible;
    }
    if (visible < static_cast<size_t>(options_.no_answer.min_chars)) failed.push_back(Filter::NoAnswer);
  }
  if (options_.repetition.enabled &&
      repeated_ngram_share(cot, static_cast<size_t>(options_.repetition.ngram_size)) >
          options_.repetition.max_repeated_share)
    failed.push_back(Filter::Repetition);
  if (options_.duplicate.enabled &&
      duplicates_.is_duplicate(sample.group.value_or(sample.prompt), sample.completion))
    failed.push_back(Filter::Duplicate);
  return failed;
}

void ReadabilityFilter::remember(const FilterInput& sample) {
  if (options_.duplicate.enabled) duplicates_.remember(sample.group.value_or(sample.prompt), sample.completion);
}

std::vector<Filter> ReadabilityFilter::apply(const FilterInput& sample) {
  std::vector<Filter> failed = check(sample);
  stats_.add(failed);
  if (failed.empty()) remember(sample);
  return failed;
}

}  // namespace r1::data
