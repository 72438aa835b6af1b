// Parser of answers written in LaTeX or plain text ("\frac{1}{2}", "1/2", "x^2-1", "[0, 1)", "3 or 5",
// "15\text{ cm}^2", "\begin{pmatrix}1\\2\end{pmatrix}", "204_5", "50%") into a math::Tree.
//
// A hand-written tokenizer and recursive-descent parser (precedence: list < relation < ratio < union < sum <
// product/implicit product < unary < power < postfix < primary). Hand-written because it runs on every
// sampled completion: no regex backtracking, no allocations per character, and every recursion is
// depth-limited, every loop bounded by the token count (ParseLimits) — adversarial input such as
// 100k nested braces or a megabyte of digits fails fast instead of hanging or overflowing the stack.
//
// Decisions that are not obvious (all listed in docs/rewards.md):
//  - "1,000" and "7 425 000" are one number (thousands groups of exactly 3 digits); "1, 2" is a list.
//  - An integer followed by a fraction of integers is a mixed number: "2\frac{1}{2}" = "2 1/2" = 5/2.
//  - "(a, b)" is a Tuple flagged kParen (a point or an open interval — compared as either); "[a, b)",
//    "(a, b]" and "[a, b]" are intervals; "\{a, b\}" and "{a, b}" are sets; a bare "a, b" is a List.
//  - Text after a number is a unit and is dropped: "15 cm^2", "5\text{ dollars}", "60 km/h" -> 15, 5, 60.
//    Runs of 4+ letters and known unit/words (cm, ft, hr, yes, odd, ...) are words; other 2-3 letter runs
//    are products of variables ("xy" = x*y).
//  - e is Euler's number and i the imaginary unit unless subscripted; \log is the natural logarithm.
//  - f, g, h followed directly by "(" are function applications; other letters multiply ("x(x+1)").
//  - A colon between two numbers is a Ratio ("3:4", "12:00", "1:2:3"), its parts kept in order; an am/pm
//    after a time is kept as the node's text, not dropped as a unit. Other colons do not parse.
#pragma once

#include <string>
#include <string_view>

#include "rewards/math/math_ast.h"

namespace r1::rewards::math {

struct ParseLimits {
  size_t max_chars = 20000;   // longer answers are not parsed (compared as strings)
  size_t max_tokens = 4000;
  int max_depth = 256;        // recursion units (about 4 per bracket level, 1 per unary sign)
  size_t max_nodes = 8000;
};

// Parses an already normalised answer (math_normalize.h). On failure returns false and, if `error` is
// given, a short reason ("unbalanced bracket at token 7").
bool parse_answer(std::string_view normalized, Tree& out, std::string* error = nullptr,
                  const ParseLimits& limits = {});

}  // namespace r1::rewards::math
