// See rejection.h.
#include "rl/rejection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "common/config_io.h"
#include "common/error.h"
#include "datasets/filters/completion_parts.h"
#include "rewards/text_words.h"

namespace r1::rl {

const std::vector<std::pair<SourceKind, const char*>>& enum_names(SourceKind) {
  static const std::vector<std::pair<SourceKind, const char*>> names = {{SourceKind::Reasoning, "reasoning"},
                                                                        {SourceKind::General, "general"}};
  return names;
}

const std::vector<std::pair<KeepMode, const char*>>& enum_names(KeepMode) {
  static const std::vector<std::pair<KeepMode, const char*>> names = {
      {KeepMode::All, "all"}, {KeepMode::Best, "best"}, {KeepMode::FirstK, "first_k"}};
  return names;
}

const std::vector<std::pair<ReferenceMode, const char*>>& enum_names(ReferenceMode) {
  static const std::vector<std::pair<ReferenceMode, const char*>> names = {{ReferenceMode::Keep, "keep"},
                                                                           {ReferenceMode::WithCot, "with_cot"}};
  return names;
}

const std::vector<std::pair<NoCotFormat, const char*>>& enum_names(NoCotFormat) {
  static const std::vector<std::pair<NoCotFormat, const char*>> names = {{NoCotFormat::EmptyThink, "empty_think"},
                                                                         {NoCotFormat::Plain, "plain"}};
  return names;
}

namespace {

std::string_view trim(std::string_view s) {
  const char* ws = " \t\r\n";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

}  // namespace

ReadableParts readable_parts(std::string_view completion, data::MissingThink missing_think, bool strip_answer_tags) {
  const data::CompletionParts parts = data::split_completion(completion, missing_think);
  ReadableParts out;
  out.cot = std::string(trim(parts.cot));
  std::string_view summary = trim(parts.answer);
  static constexpr std::string_view kOpen = "<answer>", kClose = "</answer>";
  if (strip_answer_tags && summary.size() >= kOpen.size() + kClose.size() && summary.substr(0, kOpen.size()) == kOpen &&
      summary.substr(summary.size() - kClose.size()) == kClose) {
    std::string_view inner = summary.substr(kOpen.size(), summary.size() - kOpen.size() - kClose.size());
    if (inner.find(kOpen) == std::string_view::npos && inner.find(kClose) == std::string_view::npos) {
      summary = trim(inner);
    }
  }
  out.summary = std::string(summary);
  out.unclosed = parts.unclosed;
  return out;
}

std::string readable_text(std::string_view cot, std::string_view summary, NoCotFormat no_cot) {
  if (cot.empty() && no_cot == NoCotFormat::Plain) return std::string(summary);
  std::string out = "<think>\n";
  out += cot;
  out += "\n</think>\n\n";
  out += summary;
  return out;
}

size_t code_points(std::string_view text) {
  size_t n = 0;
  for (size_t i = 0; i < text.size();) {
    rewards::next_code_point(text, i);
    ++n;
  }
  return n;
}

size_t prompt_words(std::string_view text) {
  size_t words = 0;
  bool in_word = false;
  for (size_t i = 0; i < text.size();) {
    const uint32_t cp = rewards::next_code_point(text, i);
    const bool space = cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x3000 || cp == 0xA0;
    if (space) {
      in_word = false;
    } else if (rewards::is_per_character_script(rewards::script_of(cp))) {
      ++words;
      in_word = false;
    } else if (!in_word) {
      ++words;
      in_word = true;
    }
  }
  return words;
}

bool is_trivial_prompt(std::string_view question, int64_t below_words, int64_t below_chars) {
  const std::string_view q = trim(question);
  if (below_words <= 0 && below_chars <= 0) return false;
  if (below_words > 0 && static_cast<int64_t>(prompt_words(q)) >= below_words) return false;
  if (below_chars > 0 && static_cast<int64_t>(code_points(q)) >= below_chars) return false;
  return true;
}

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::Kept: return "kept";
    case Outcome::NotCorrect: return "not_correct";
    case Outcome::Filtered: return "filtered";
    case Outcome::KeepMode: return "keep_mode";
    case Outcome::Quota: return "quota";
  }
  return "?";
}

std::vector<Decision> decide_prompt(const std::vector<Candidate>& candidates, KeepMode keep, int64_t k, int64_t room,
                                    data::ReadabilityFilter& filter, std::string_view question,
                                    std::string_view target_lang, std::string_view group) {
  std::vector<Decision> out(candidates.size());
  std::vector<size_t> passing;
  auto input = [&](const Candidate& c) {
    data::FilterInput in;
    in.completion = c.text;
    in.prompt = question;
    in.target_lang = target_lang;
    in.truncated = c.truncated;
    in.group = group;
    return in;
  };
  for (size_t i = 0; i < candidates.size(); ++i) {
    const Candidate& c = candidates[i];
    if (!c.correct) {
      out[i].outcome = Outcome::NotCorrect;
      continue;
    }
    out[i].failed = filter.check(input(c));
    if (!out[i].failed.empty()) {
      out[i].outcome = Outcome::Filtered;
      continue;
    }
    out[i].outcome = Outcome::KeepMode;  // until picked below
    // all / first_k: remember at once, so a later copy of a sample the mode will keep fails `duplicate`.
    if (keep == KeepMode::All || (keep == KeepMode::FirstK && static_cast<int64_t>(passing.size()) < k)) {
      filter.remember(input(c));
    }
    passing.push_back(i);
  }
  std::vector<size_t> chosen;
  if (keep == KeepMode::All) {
    chosen = passing;
  } else if (keep == KeepMode::FirstK) {
    // The first k distinct: an exact copy of one already chosen is passed over, also with the duplicate filter
    // off (when on, it has already dropped copies, near ones too).
    for (size_t i : passing) {
      if (static_cast<int64_t>(chosen.size()) >= k) break;
      bool copy = false;
      for (size_t j : chosen) copy = copy || candidates[j].text == candidates[i].text;
      if (!copy) chosen.push_back(i);
    }
  } else if (!passing.empty()) {
    size_t best = passing.front();
    for (size_t i : passing) {
      if (candidates[i].reward > candidates[best].reward) best = i;
    }
    chosen = {best};
    filter.remember(input(candidates[best]));
  }
  int64_t taken = 0;
  for (size_t i : chosen) {
    if (room >= 0 && taken >= room) {
      out[i].outcome = Outcome::Quota;
      continue;
    }
    out[i].outcome = Outcome::Kept;
    ++taken;
  }
  return out;
}

void SourceStats::count(const Candidate& c, const Decision& d) {
  if (c.sample_index >= 0) ++samples;
  if (c.correct) {
    ++correct;
    filters.add(d.failed);
    if (d.failed.empty()) ++passed_filters;
  }
  switch (d.outcome) {
    case Outcome::NotCorrect: ++dropped_not_correct; break;
    case Outcome::Filtered: break;
    case Outcome::KeepMode: ++dropped_keep_mode; break;
    case Outcome::Quota: ++dropped_quota; break;
    case Outcome::Kept:
      ++kept;
      if (c.sample_index >= 0) ++kept_generated;
      if (!c.cot.empty()) {
        ++cot_kept;
        cot_chars_sum += static_cast<double>(code_points(c.cot));
      }
      break;
  }
}

double SourceStats::acceptance_rate() const {
  return samples > 0 ? static_cast<double>(kept_generated) / static_cast<double>(samples)
                     : std::numeric_limits<double>::quiet_NaN();
}

namespace {

// Every stored counter of SourceStats by its stats.json / progress.json name: to_json and from_json walk this
// one list (the per-filter drops and the derived rates are added around it).
template <class Stats, class F>
void visit_counters(Stats& s, F&& f) {
  f("prompts", s.prompts);
  f("trivial_prompts", s.trivial);
  f("samples", s.samples);
  f("correct", s.correct);
  f("passed_filters", s.passed_filters);
  f("kept", s.kept);
  f("kept_generated", s.kept_generated);
  f("kept_reference", s.kept_reference);
  f("fallback_no_cot", s.fallback_no_cot);
  f("dropped_not_correct", s.dropped_not_correct);
  f("dropped_keep_mode", s.dropped_keep_mode);
  f("dropped_quota", s.dropped_quota);
  f("cot_kept", s.cot_kept);
  f("cot_chars_sum", s.cot_chars_sum);
  f("generate_s", s.generate_s);
  f("reward_s", s.reward_s);
  f("generated_tokens", s.generated_tokens);
  f("done", s.done);
}

}  // namespace

json::Document SourceStats::to_json() const {
  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  auto num = [](double x) { return std::isfinite(x) ? json::Value(x) : json::Value(rapidjson::kNullType); };
  visit_counters(*this, [&](const char* name, const auto& x) { doc.AddMember(rapidjson::StringRef(name), json::Value(x), a); });
  json::Value by(rapidjson::kObjectType);
  for (data::Filter f : data::all_filters()) {
    by.AddMember(json::Value(rapidjson::StringRef(data::filter_name(f))),
                 json::Value(static_cast<uint64_t>(filters.dropped_by[static_cast<size_t>(f)])), a);
  }
  doc.AddMember("dropped_filtered", json::Value(static_cast<uint64_t>(filters.dropped)), a);
  doc.AddMember("dropped_by_filter", by, a);
  doc.AddMember("acceptance_rate", num(acceptance_rate()), a);
  doc.AddMember("cot_chars_mean",
                num(cot_kept > 0 ? cot_chars_sum / static_cast<double>(cot_kept)
                                 : std::numeric_limits<double>::quiet_NaN()),
                a);
  return doc;
}

SourceStats SourceStats::from_json(const json::Value& v, const std::string& where) {
  SourceStats s;
  visit_counters(s, [&](const char* name, auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, bool>) {
      x = json::get_bool(v, name, where);
    } else if constexpr (std::is_same_v<T, double>) {
      x = json::get_double(v, name, where);
    } else {
      x = json::get_int(v, name, where);
    }
  });
  const json::Value& by = json::get(v, "dropped_by_filter", where);
  for (data::Filter f : data::all_filters()) {
    s.filters.dropped_by[static_cast<size_t>(f)] =
        static_cast<size_t>(json::get_int(by, data::filter_name(f), where + ": dropped_by_filter"));
  }
  s.filters.dropped = static_cast<size_t>(json::get_int(v, "dropped_filtered", where));
  s.filters.rows = static_cast<size_t>(s.correct);
  s.filters.kept = static_cast<size_t>(s.passed_filters);
  return s;
}

MixPlan MixPlan::parse(const std::string& text, int64_t total, const std::string& where) {
  MixPlan plan;
  R1_CHECK(total == -1 || total > 0, where, ": total must be > 0, or -1 (no total)");
  if (text.empty()) {
    R1_CHECK(total == -1, where, ": total needs a mix of shares (e.g. \"mix\": {\"reasoning\": 0.75, \"general\": 0.25})");
    return plan;
  }
  const json::Document doc = json::parse(text, where + ": mix");
  R1_CHECK(doc.IsObject() && doc.MemberCount() > 0, where,
           ": mix must be an object kind -> count or share, e.g. {\"reasoning\": 600000, \"general\": 200000} or "
           "{\"reasoning\": 0.75, \"general\": 0.25}");
  double sum = 0;
  bool all_integers = true;
  for (auto it = doc.MemberBegin(); it != doc.MemberEnd(); ++it) {
    const std::string key(it->name.GetString(), it->name.GetStringLength());
    const std::string at = where + ": mix." + key;
    const SourceKind kind = enum_from_name<SourceKind>(key, at);
    R1_CHECK(it->value.IsNumber() && it->value.GetDouble() > 0, at, ": expected a number > 0, got ",
             it->value.IsNumber() ? json::dump(it->value) : json::type_name(it->value));
    const double x = it->value.GetDouble();
    plan.value[kind] = x;
    sum += x;
    all_integers &= x >= 1 && x == std::floor(x);
  }
  plan.given = true;
  plan.ratios = std::abs(sum - 1.0) < 1e-9 && !(all_integers && plan.value.size() > 1);
  if (!plan.ratios) {
    R1_CHECK(all_integers, where, ": mix: give counts (integers >= 1) or shares (numbers in (0, 1] summing to 1); "
             "these are neither (they sum to ", sum, ")");
    R1_CHECK(total == -1, where, ": total applies to a mix of shares; with counts the counts are the total");
  }
  return plan;
}

int64_t MixPlan::collect_quota(SourceKind kind, int64_t total) const {
  if (!given) return -1;
  auto it = value.find(kind);
  if (it == value.end()) return 0;
  if (!ratios) return static_cast<int64_t>(it->second);
  return total > 0 ? static_cast<int64_t>(std::llround(it->second * static_cast<double>(total))) : -1;
}

std::map<SourceKind, int64_t> MixPlan::final_counts(const std::map<SourceKind, int64_t>& available, int64_t total,
                                                    bool exact_ratio) const {
  std::map<SourceKind, int64_t> out;
  if (!given) return available;
  auto have = [&](SourceKind k) {
    auto it = available.find(k);
    return it == available.end() ? int64_t{0} : it->second;
  };
  // Targets: the counts, or total × share (none without a total).
  std::map<SourceKind, double> target;
  for (const auto& [kind, x] : value) {
    target[kind] = !ratios ? x : total > 0 ? std::llround(x * static_cast<double>(total))
                                           : std::numeric_limits<double>::infinity();
  }
  if (!exact_ratio) {
    for (const auto& [kind, t] : target) out[kind] = static_cast<int64_t>(std::min<double>(t, have(kind)));
    return out;
  }
  // The largest set in proportion: scale the shares (or counts) by the scarcest kind.
  double scale = std::numeric_limits<double>::infinity();
  for (const auto& [kind, x] : value) scale = std::min(scale, static_cast<double>(have(kind)) / x);
  for (const auto& [kind, x] : value) {
    out[kind] = static_cast<int64_t>(std::min(target[kind], std::floor(x * scale + 1e-9)));
  }
  return out;
}

}  // namespace r1::rl
