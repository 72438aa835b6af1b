// See math_verify.h.
#include "rewards/math_verify.h"

#include "rewards/math_normalize.h"
#include "rewards/math_parser.h"

namespace r1::rewards::math {
namespace {

std::string shorten(const std::string& s, size_t max = 80) {
  if (s.size() <= max) return s;
  return s.substr(0, max) + "...";
}

}  // namespace

bool parse_math(std::string_view answer, Tree& out, std::string* error) {
  return parse_answer(normalize_answer(answer), out, error);
}

GoldAnswer::GoldAnswer(std::string_view gold_field, const VerifyOptions& options) {
  auto try_candidate = [&](const Candidate& c) {
    std::string normalized = normalize_answer(c.text);
    if (normalized.empty()) return false;
    if (text_.empty()) text_ = normalized;
    Tree tree;
    if (!parse_answer(normalized, tree)) return false;
    tree_ = std::move(tree);
    text_ = normalized;
    return true;
  };
  ExtractOptions extract = options.extract;
  extract.fallback = true;  // a gold field always has an answer somewhere
  for (const Candidate& c : gold_candidates(gold_field, extract))
    if (try_candidate(c)) return;
  // A solution text: search it like a completion.
  for_each_candidate(gold_field, extract, try_candidate);
}

Verdict verify(const GoldAnswer& gold, std::string_view completion, const VerifyOptions& options) {
  Verdict v;
  Budget budget(options.timeout_ms);
  Tree pred;
  std::string first_text;
  for_each_candidate(completion, options.extract, [&](const Candidate& c) {
    if (!budget.tick()) return true;
    std::string normalized = normalize_answer(c.text);
    if (normalized.empty()) return false;
    if (!v.found) {
      v.found = true;
      first_text = normalized;
      v.source = c.source;
    }
    if (!parse_answer(normalized, pred)) return false;
    v.parsed = true;
    v.answer = normalized;
    v.source = c.source;
    return true;
  });
  if (!v.parsed) v.answer = first_text;
  if (!v.found) {
    v.reason = "no answer found";
    return v;
  }
  if (gold.empty()) {
    v.reason = "gold answer is empty";
    return v;
  }
  if (v.parsed && gold.parsed()) {
    v.correct = equivalent(gold.tree(), pred, options.compare, budget);
  } else {
    v.correct = !v.answer.empty() && v.answer == gold.text();  // string fallback
  }
  v.timed_out = budget.expired();
  if (v.timed_out) v.correct = false;
  v.reason = v.source + " " + shorten(v.answer) + (v.correct ? " == " : " != ") + "gold " + shorten(gold.text()) +
             (v.timed_out ? " (timed out)" : "") + (v.parsed ? "" : " (unparsed)");
  return v;
}

Verdict verify(std::string_view gold_field, std::string_view completion, const VerifyOptions& options) {
  GoldAnswer gold(gold_field, options);
  return verify(gold, completion, options);
}

bool answers_equivalent(std::string_view gold_answer, std::string_view predicted_answer, const VerifyOptions& options) {
  std::string g = normalize_answer(gold_answer), p = normalize_answer(predicted_answer);
  Tree gt, pt;
  bool g_ok = parse_answer(g, gt), p_ok = parse_answer(p, pt);
  if (!g_ok || !p_ok) return !g.empty() && g == p;
  Budget budget(options.timeout_ms);
  return equivalent(gt, pt, options.compare, budget) && !budget.expired();
}

}  // namespace r1::rewards::math
