// The model-free part of rejection sampling (the `rejection_sampling` stage, rl/stages/rejection_sampling.h):
// what one prompt's scored samples become — R1's readable format, trivial prompts, which samples are kept
// (correct, through the readability filters, by keep mode, within the quota) and why the others are not —
// the per-source counters of stats.json, and the final mix of kinds. Kept apart from the stage so that each
// rule is tested on crafted samples, without a model.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/json.h"
#include "datasets/filters/readability_filter.h"

namespace r1::rl {

enum class SourceKind { Reasoning, General };
const std::vector<std::pair<SourceKind, const char*>>& enum_names(SourceKind);

enum class KeepMode { All, Best, FirstK };
const std::vector<std::pair<KeepMode, const char*>>& enum_names(KeepMode);

// What a general source does with a row's reference response.
enum class ReferenceMode { Keep, WithCot };
const std::vector<std::pair<ReferenceMode, const char*>>& enum_names(ReferenceMode);

// How a response without a chain of thought is written.
enum class NoCotFormat { EmptyThink, Plain };
const std::vector<std::pair<NoCotFormat, const char*>>& enum_names(NoCotFormat);

// ---------------------------------------------------------------------------------------------------------
// R1's readable format.

// A generated completion cut into its chain of thought and its summary (datasets/filters/completion_parts.h,
// so a lone </think> after a prompt that opened the block works), both trimmed of surrounding white space.
// With strip_answer_tags, a summary that is exactly one <answer>…</answer> block (R1-Zero's template) loses
// the tags: R1's readable format has none. `unclosed`: the CoT was never closed (cut at the length limit).
struct ReadableParts {
  std::string cot, summary;
  bool unclosed = false;
};
ReadableParts readable_parts(std::string_view completion, data::MissingThink missing_think, bool strip_answer_tags);

// "<think>\n{cot}\n</think>\n\n{summary}"; with an empty CoT "<think>\n\n</think>\n\n{summary}" (EmptyThink:
// the model keeps one output shape and learns to skip thinking) or the summary alone (Plain).
std::string readable_text(std::string_view cot, std::string_view summary, NoCotFormat no_cot);

// Code points of a text (CoT lengths in stats.json).
size_t code_points(std::string_view text);

// Words of a prompt for the trivial-prompt rule: runs of non-space characters, each Han / kana / hangul
// character one word (so "你好" is two words, as the language reward counts them).
size_t prompt_words(std::string_view text);

// A prompt is trivial (no CoT: "hello", "thanks!") when it has fewer than `below_words` words and fewer than
// `below_chars` code points after trimming (both: a dense Chinese question of 14 characters is 14 words, an
// English "What is love?" 13 characters); a limit of 0 is off, both 0: nothing is trivial.
bool is_trivial_prompt(std::string_view question, int64_t below_words, int64_t below_chars);

// ---------------------------------------------------------------------------------------------------------
// One prompt's samples → decisions.

// Why a sample was not kept (or that it was).
enum class Outcome { Kept, NotCorrect, Filtered, KeepMode, Quota };
const char* outcome_name(Outcome o);

struct Candidate {
  int64_t sample_index = 0;  // -1: the row's reference response, not a generated sample
  std::string text;          // what the filters judge: readable_text(cot, summary, EmptyThink)
  std::string cot;           // its chain of thought ("" = none)
  std::string summary;       // the response after the CoT
  double reward = 0;
  bool correct = true;
  bool truncated = false;    // cut at the length limit, or the think block never closed
};

struct Decision {
  Outcome outcome = Outcome::NotCorrect;
  std::vector<data::Filter> failed;  // the filters that rejected it (outcome Filtered)
};

// Decides every candidate of one prompt, in this order: a sample that is not correct is dropped; each
// correct one is checked by the readability filters (on `text`, with the prompt for language detection and
// `group` for duplicates) and the decision lists every filter it failed; of those that pass, the keep
// mode picks — all: every one (near-duplicates of an earlier kept one already fail `duplicate`); best: the
// one with the highest reward (ties: the earliest); first_k: the first k distinct in sample order (an exact copy
// of one already chosen is passed over even with the duplicate filter off) — and the quota
// (`room` samples still allowed, -1 = no limit) cuts the rest in the same order. Kept samples are remembered
// by the duplicate filter; the caller calls filter.forget_group(group) once the prompt is done.
std::vector<Decision> decide_prompt(const std::vector<Candidate>& candidates, KeepMode keep, int64_t k, int64_t room,
                                    data::ReadabilityFilter& filter, std::string_view question,
                                    std::string_view target_lang, std::string_view group);

// ---------------------------------------------------------------------------------------------------------
// Counters of one source (stats.json; also saved in the stage's progress file to resume).

struct SourceStats {
  int64_t prompts = 0;          // prompts taken from the source
  int64_t trivial = 0;          // of them, trivial (no CoT)
  int64_t samples = 0;          // generated samples
  int64_t correct = 0;          // of them (and of reference responses), judged correct
  int64_t passed_filters = 0;   // correct and through every readability filter
  int64_t kept = 0;             // written
  int64_t kept_generated = 0;   // of the kept, generated samples (the rest: reference responses as they are)
  int64_t kept_reference = 0;   // of the kept, reference responses (as is or with a generated CoT)
  int64_t fallback_no_cot = 0;  // reference responses kept without CoT because no generated CoT passed
  int64_t dropped_not_correct = 0, dropped_keep_mode = 0, dropped_quota = 0;
  data::FilterStats filters;    // correct samples through the filters: drops per filter
  double cot_chars_sum = 0;     // code points of the kept CoTs
  int64_t cot_kept = 0;         // kept samples with a CoT
  double generate_s = 0, reward_s = 0;
  int64_t generated_tokens = 0;
  bool done = false;            // the source is exhausted or met its quota

  void count(const Candidate& c, const Decision& d);  // one decided candidate
  // Kept generated samples / generated samples (NaN without samples).
  double acceptance_rate() const;
  json::Document to_json() const;
  static SourceStats from_json(const json::Value& v, const std::string& where);
};

// ---------------------------------------------------------------------------------------------------------
// Quotas per kind and the final mix.

// The stage's `mix`: per kind a count (an integer >= 1: collect at most this many, and the final set holds
// this many) or a ratio (all values in (0, 1], summing to 1: the final set is mixed in these shares; with
// `total`, total × share is the count of each kind). Absent: no kind quota and no trimming.
struct MixPlan {
  bool given = false;
  bool ratios = false;
  std::map<SourceKind, double> value;  // kind → count or share

  // Parses the stage's `mix` JSON text ("" = absent); errors name `where`.
  static MixPlan parse(const std::string& text, int64_t total, const std::string& where);
  // The most samples of `kind` to collect (-1 = no limit).
  int64_t collect_quota(SourceKind kind, int64_t total) const;
  // How many of each kind the final set takes from `available` (kept per kind): with a plan, the largest set
  // in the stated proportion that `available` allows (capped at the counts, or at total × share); with
  // exact_ratio false, a kind that fell short does not shrink the others. Without a plan, everything.
  std::map<SourceKind, int64_t> final_counts(const std::map<SourceKind, int64_t>& available, int64_t total,
                                             bool exact_ratio) const;
};

// A seeded Fisher–Yates shuffle (portable: raw splitmix64 draws, no std distributions).
template <class T>
void seeded_shuffle(std::vector<T>& v, uint64_t seed);

}  // namespace r1::rl

#include "common/seed.h"

namespace r1::rl {
template <class T>
void seeded_shuffle(std::vector<T>& v, uint64_t seed) {
  uint64_t state = seed;
  for (size_t i = v.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(splitmix64_next(state) % i);
    std::swap(v[i - 1], v[j]);
  }
}
}  // namespace r1::rl
