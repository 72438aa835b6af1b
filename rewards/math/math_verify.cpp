// See math_verify.h.
#include "rewards/math/math_verify.h"

#include "rewards/math/math_normalize.h"
#include "rewards/math/math_parser.h"

namespace r1::rewards::math {
namespace {

std::string shorten(const std::string& s, size_t max = 80) {
  if (s.size() <= max) return s;
  return s.substr(0, max) + "...";
}

bool is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// The answer without LaTeX wrappers: \commands, braces and dollar signs dropped, blanks trimmed.
std::string strip_wrappers(std::string_view answer) {
  std::string s;
  for (size_t i = 0; i < answer.size(); ++i) {  // drop \text{ \textbf{ \mathrm{ wrappers and braces
    if (answer[i] == '\\') {
      size_t j = i + 1;
      while (j < answer.size() && is_letter(answer[j])) ++j;
      i = j - 1;
      continue;
    }
    if (answer[i] != '{' && answer[i] != '}' && answer[i] != '$') s += answer[i];
  }
  size_t a = s.find_first_not_of(" \t\n"), b = s.find_last_not_of(" \t\n");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// True when a gold answer is nothing but the choice letter: "C", "(C)", "C)", "\text{(C)}", or a bracketed
// label with its option's content ("(C) 12"). A letter followed by anything else names a value:
// "D = (0, 1)" is the point D and "E = 10" a length, and reading them as choices would accept any
// prediction that starts with the letter, whatever follows the "=".
bool is_choice_gold(std::string_view gold, char letter) {
  std::string s = strip_wrappers(gold);
  auto same = [&](char c) { return static_cast<char>(c & ~0x20) == letter; };
  if (s.size() >= 3 && s[0] == '(' && same(s[1]) && s[2] == ')') return true;
  return (s.size() == 1 || (s.size() == 2 && s[1] == ')')) && s[0] == letter;
}

// The last "(X)" with X in A-E (either case) in the text, or 0.
char last_bracketed_choice(std::string_view text) {
  for (size_t i = text.size(); i-- >= 3;) {
    if (i < 2 || text[i] != ')' || text[i - 2] != '(') continue;
    char c = static_cast<char>(text[i - 1] & ~0x20);
    if (c >= 'A' && c <= 'E') return c;
  }
  return 0;
}

}  // namespace

char choice_letter(std::string_view answer) {
  std::string s = strip_wrappers(answer);
  size_t a = s.find_first_not_of(" \t\n"), b = s.find_last_not_of(" \t\n.:;");
  if (a == std::string::npos || b == std::string::npos || b < a) return 0;
  std::string_view t(s.data() + a, b - a + 1);
  if (t.size() >= 3 && t[0] == '(' && t[2] == ')') {
    char c = static_cast<char>(t[1] & ~0x20);
    return (c >= 'A' && c <= 'E') ? c : 0;
  }
  if (!t.empty() && t[0] >= 'A' && t[0] <= 'E' && (t.size() == 1 || !is_letter(t[1]))) {
    if (t.size() == 1 || t[1] == ')' || t[1] == '.' || t[1] == ':' || t[1] == ' ' || t[1] == ',') return t[0];
  }
  return 0;
}

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
  bool done = false;
  for (const Candidate& c : gold_candidates(gold_field, extract))
    if ((done = try_candidate(c))) break;
  // A solution text: search it like a completion.
  if (!done) for_each_candidate(gold_field, extract, try_candidate);
  // A gold that is exactly one choice letter (a single capital, or one in brackets).
  char letter = choice_letter(text_);
  if (letter != 0 && is_choice_gold(text_, letter)) choice_ = letter;
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
  if (!v.found && gold.choice() != 0) {  // "... so the right option is (C) because ...": the last "(X)"
    char letter = last_bracketed_choice(completion);
    if (letter != 0) {
      v.found = true;
      v.answer = std::string("(") + letter + ")";
      v.source = "choice";
    }
  }
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
  if (!v.correct && gold.choice() != 0) {  // "C)", "(C) 12", "C. 12", "The answer is (C)."
    char letter = choice_letter(v.answer);
    if (letter == 0) letter = choice_letter(first_text);
    if (letter == 0) letter = last_bracketed_choice(v.answer);
    if (letter == 0 && (v.source == "text" || v.source == "number" || v.source == "formula"))
      letter = last_bracketed_choice(completion);
    v.correct = letter == gold.choice();
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
