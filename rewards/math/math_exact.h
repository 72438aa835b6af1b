// Exact rational evaluation of an answer tree with GMP (mpq_class).
//
// Numbers, + - * /, integer powers, perfect-power roots (\sqrt{16/9}, 8^{1/3}), factorials, binomials,
// |x|, floor/ceil, gcd/lcm and percent evaluate exactly, so 0.1 + 0.2 == 3/10 and 7,425,000 == 7425e3
// with no rounding anywhere. Anything else (pi, sqrt(2), symbols, trig) makes eval_exact return false
// and the caller falls back to numeric evaluation (math_numeric.h).
//
// Every operation is size-capped (ExactLimits): a power whose result would exceed max_bits, a
// factorial above max_factorial, or a literal longer than the parser allows is "not exact" rather than
// a multi-second GMP computation — that is how "10^{10^{10}}" stays cheap.
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <string_view>

#include "rewards/math/math_ast.h"
#include "rewards/math/math_budget.h"

namespace r1::rewards::math {

struct ExactLimits {
  size_t max_bits = 1u << 17;    // numerator or denominator size of any intermediate
  long max_factorial = 3000;     // n! and binomial n
};

struct EvalOptions {
  bool percent_divides = true;  // x% means x/100 (false: the % sign is ignored)
  ExactLimits limits;
};

// Parses an unsigned decimal literal: "123", "1.50", ".5", "2.", "1.5e-3", "3E+04". False if malformed
// or the exponent is beyond ±10000.
bool parse_decimal(std::string_view text, mpq_class& out);

// base^exponent when exact: integer exponents (size-capped), rational p/q when base is a perfect q-th
// power. 0 to a negative power is not exact (division by zero).
bool exact_pow(const mpq_class& base, const mpq_class& exponent, mpq_class& out, const ExactLimits& limits);

// The n-th root of x when x is a perfect n-th power of a rational (negative x only for odd n).
bool exact_root(const mpq_class& x, unsigned long n, mpq_class& out);

// round(x * 10^places) to the nearest integer, ties away from zero.
mpz_class round_scaled(const mpq_class& x, int places);

// Exact value of the subtree, or false when it is not a rational number (or too big, or the budget ran
// out). Tuples, sets, relations etc. are never exact scalars.
bool eval_exact(const Tree& tree, int32_t node, const EvalOptions& options, Budget& budget, mpq_class& out);

}  // namespace r1::rewards::math
