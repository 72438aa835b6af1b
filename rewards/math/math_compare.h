// Equivalence of two parsed answers: the gold (from the dataset) and the prediction (from the model).
//
// The rules, in the order they are tried (docs/rewards.md has the full list with examples):
//  1. Identical canonical renderings are equal.
//  2. Assignments and equations — the gold decides: gold "x = 3" accepts "3" and "x = 3" (not "y = 3");
//     gold "3" accepts "x = 3" and "1 + 2 = 3" (the last right-hand side); chains keep their first
//     left and last right side ("x = 5 + 6 = 11"); a chain with \approx keeps what precedes it.
//  3. Relations: equations are equal when lhs - rhs agree up to a nonzero constant factor, inequalities
//     up to a positive one (x > 5 == 5 < x == 2x > 10); a one-variable inequality equals the interval it
//     describes (x > 5 == (5, \infty)).
//  4. Structures: tuples ordered (also against a set: {1, 3} is (1, 3), never (3, 1)), sets and bare lists
//     order-free, intervals need equal ends and equal open/closed ends, "(a, b)" is both a point and an
//     open interval, unions order-free, matrices by shape and cells, a one-element set/list equals its
//     element, a ± b equals the set {a + b, a - b} and (±1, 0) the set of tuples {(1, 0), (-1, 0)};
//     ratios and clock times by their parts in order (12:00 != 1:00, 3:4 != 4:3 or 3/4), a whole-hour
//     time equals its bare hour (7:00 pm == 7).
//  5. Text: case-, space- and punctuation-insensitive ("\text{(C)}" == "C", "\text{Evelyn}" == "Evelyn").
//  6. Scalars: exact rational equality when both sides are rational; a side written with a decimal
//     point is compared after rounding both to `float_places` decimals (1/3 == 0.333333, 1/3 != 0.33);
//     otherwise numeric evaluation (at several random points when there are variables) with a tight
//     relative tolerance. Percent signs are tried as /100 and as nothing (PercentMode::Flexible).
//
// Asymmetry: only rule 2 and the am/pm of a clock time (the gold's must be matched, the prediction's alone
// does not count) treat gold and prediction differently; every other rule is symmetric.
#pragma once

#include "rewards/math/math_ast.h"
#include "rewards/math/math_budget.h"

namespace r1::rewards::math {

enum class PercentMode {
  Flexible,  // 50% equals 50 and 0.5 (a percent sign on either side)
  Fraction,  // 50% equals 0.5 only
  Ignore,    // 50% equals 50 only
};

struct CompareOptions {
  PercentMode percent = PercentMode::Flexible;
  int float_places = 6;          // decimals kept when a side is written as a decimal number
  double rel_tol = 1e-9;         // numeric comparison of constant expressions
  double symbolic_rel_tol = 1e-8;  // numeric comparison at random points (expressions in variables)
  int trials = 5;                // random points for expressions in variables
};

bool equivalent(const Tree& gold, const Tree& pred, const CompareOptions& options, Budget& budget);

}  // namespace r1::rewards::math
