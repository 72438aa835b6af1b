// Numeric evaluation of an answer tree in complex double precision: the fallback of the verifier for
// everything exact rational arithmetic cannot decide (sqrt(2), pi, trig, and expressions in variables).
//
// Symbols get deterministic pseudo-random values: symbol_value(name, trial) depends only on the name
// and the trial number, so "x" means the same number in the gold tree and in the prediction tree, and
// two expressions that agree at several trials are taken as identical (x^2 - 1 vs (x - 1)(x + 1)). Values
// lie in (0.35, 2.25): positive and away from 0 and 1, so principal branches of sqrt/log agree with the
// real-variable identities people write (sqrt(x^2) = x, log(xy) = log x + log y) — a deliberate choice
// documented in docs/rewards.md.
//
// Unknown function names (f, g, h, and commands the parser did not know) evaluate to a fixed smooth
// pseudo-random function of their arguments, so f(2) + 1 equals 1 + f(2) but not f(3) + 1.
#pragma once

#include <complex>
#include <string_view>

#include "rewards/math/math_ast.h"
#include "rewards/math/math_budget.h"
#include "rewards/math/math_exact.h"

namespace r1::rewards::math {

using Complex = std::complex<double>;

// The value of variable `name` in random trial `trial` (deterministic).
double symbol_value(std::string_view name, int trial);

// Evaluates the subtree with every symbol set to symbol_value(name, trial). False for structures
// (tuples, sets, relations...), text, or when the budget runs out. Non-finite results are returned
// as they are (the caller decides what an infinity means).
bool eval_numeric(const Tree& tree, int32_t node, const EvalOptions& options, int trial, Budget& budget,
                  Complex& out);

}  // namespace r1::rewards::math
