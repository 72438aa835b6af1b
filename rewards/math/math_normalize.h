// String-level clean-up of an extracted answer before it is tokenised (math_parser.h).
//
// One left-to-right pass rewrites what carries no mathematical meaning or has several spellings:
// spacing commands (\, \; \quad ~), sizing (\left \right \big), styles (\displaystyle), thousands
// markers ({,} and ,\!), dollar signs, degree marks (^\circ, °), \dfrac/\tfrac/\cfrac -> \frac,
// \mbox/\textbf/\mathrm/... -> \text, and common Unicode math (−, ×, ≤, π, √, ², ±, ∞, …) to LaTeX.
// After a number, "a.m." / "p.m." become "am" / "pm" (kept with a clock time by the parser), and a
// number or time typed as text ("\text{5}", "\text{12:00}") becomes the number.
// Trailing sentence punctuation is dropped. It never fails: unknown bytes (including invalid UTF-8)
// are copied through and rejected later by the parser.
//
// Not done here (on purpose): unit words, \text{...} contents, percent signs and commas — they need
// the token structure and are decided by the parser, where the context (a number before a word) is
// visible.
#pragma once

#include <string>
#include <string_view>

namespace r1::rewards::math {

std::string normalize_answer(std::string_view text);

}  // namespace r1::rewards::math
