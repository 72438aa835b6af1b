// The math answer verifier: does a model completion reach the gold answer?
//
//   verify(gold, completion) = extract candidates (math_extract.h) -> normalise (math_normalize.h) ->
//   parse (math_parser.h) -> compare (math_compare.h: exact GMP arithmetic, numeric fallback at random
//   points, structural rules for tuples/sets/intervals/relations/matrices/text).
//
// This is the reward users rely on most, so it aims at the verdicts of math-verify (HuggingFace) on real
// model outputs while being ~1000x faster and free of sympy's failure modes: no hangs (a per-pair time
// budget and hard size caps), no crashes on any bytes, no global state (thread-safe; one GoldAnswer can
// be shared by all threads scoring the completions of one prompt). Where it deliberately differs from
// math-verify is listed in docs/rewards.md ("Departures").
//
// When neither side parses, the normalised strings are compared exactly (non-empty), like math-verify's
// string fallback, so "\text{(C)}"-style answers that are not math still work.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "rewards/math/math_ast.h"
#include "rewards/math/math_compare.h"
#include "rewards/math/math_extract.h"

namespace r1::rewards::math {

struct VerifyOptions {
  ExtractOptions extract;
  CompareOptions compare;
  double timeout_ms = 250.0;  // per (gold, completion) pair; over budget = wrong + timed_out
};

// A gold answer parsed once (parsing the gold is a third of the work of a verification).
class GoldAnswer {
 public:
  GoldAnswer(std::string_view gold_field, const VerifyOptions& options = {});
  bool parsed() const { return tree_.root >= 0; }
  const Tree& tree() const { return tree_; }
  const std::string& text() const { return text_; }  // the normalised gold answer
  bool empty() const { return text_.empty(); }
  // 'A'..'E' when the gold is a multiple-choice letter ("C", "(C)", "\text{(C)}"), else 0.
  char choice() const { return choice_; }

 private:
  Tree tree_;
  std::string text_;
  char choice_ = 0;
};

struct Verdict {
  bool correct = false;
  bool found = false;      // an answer was extracted from the completion (parsed or not)
  bool parsed = false;     // ... and it parsed
  bool timed_out = false;
  std::string answer;      // the normalised extracted answer ("" when none)
  std::string source;      // where it came from: boxed, ####, final_answer, answer:, answer, formula, number,
                           // answer_tag
  std::string reason;      // one line for logs: "boxed 1/2 == gold 1/2"
};

Verdict verify(const GoldAnswer& gold, std::string_view completion, const VerifyOptions& options = {});
Verdict verify(std::string_view gold_field, std::string_view completion, const VerifyOptions& options = {});

// Compares two bare answers without extraction (both are normalised and parsed).
bool answers_equivalent(std::string_view gold_answer, std::string_view predicted_answer,
                        const VerifyOptions& options = {});

// The multiple-choice letter A-E an answer names: "C", "(C)", "C)", "(C) 12", "\text{(C)}", "C." -> 'C';
// 0 when there is none. Lower-case letters count only inside brackets ("(c)").
char choice_letter(std::string_view answer);

// Normalises and parses one bare answer; false when it does not parse.
bool parse_math(std::string_view answer, Tree& out, std::string* error = nullptr);

}  // namespace r1::rewards::math
