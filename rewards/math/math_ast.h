// The expression tree of the math verifier: what a parsed answer looks like.
//
// An answer ("\frac{1}{2}", "x \in [0, 1)", "(3, \frac{\pi}{2})", "\text{Evelyn}", "1 \pm \sqrt{19}") is
// parsed into one Tree: a flat arena of Nodes addressed by int index, with exact rational literals
// (GMP) and names in side tables. The arena keeps parsing allocation-light (the verifier must run tens
// of thousands of times per second per thread) and makes every walk over it bounded by the node count.
//
// The node kinds are the *answer structures* the comparison rules talk about (docs/rewards.md): scalar
// expressions, relations (chains like a = b = c, a < x <= b), ordered tuples, unordered sets, bare
// lists ("3, 5" or "3 or 5": several answers, order-free), intervals with open/closed ends, unions,
// matrices, plus-minus, percent, ratios and clock times ("3:4", "12:00") and free text. What it is not: a computer algebra system — there is no
// simplification; equivalence is decided by exact rational evaluation or by numeric evaluation at
// random points (math_eval.h, math_compare.h).
#pragma once

#include <gmpxx.h>

#include <cstdint>
#include <string>
#include <vector>

namespace r1::rewards::math {

enum class Kind : uint8_t {
  Number,     // exact rational literal: number = index into Tree::numbers; flags: kDecimal
  Symbol,     // a variable: text = name ("x", "alpha", "x_1", "v'")
  Constant,   // text = "pi" | "e" | "i" | "inf"
  Add,        // n-ary sum
  Mul,        // n-ary product
  Div,        // [numerator, denominator]
  Pow,        // [base, exponent]
  Neg,        // [x]
  Func,       // text = function name ("sqrt", "root", "sin", "log", "abs", "floor", "fact", "binom", user "f")
  Percent,    // [x]: x%
  PlusMinus,  // [a, b]: a ± b (a is Number 0 for a leading ±)
  Tuple,      // ordered; flags: kParen when written "(a, b)" (may also be an open interval)
  Set,        // \{a, b\}: unordered
  List,       // bare "a, b" / "a or b": several answers, unordered
  Interval,   // [lo, hi]; flags: kLeftOpen, kRightOpen
  Union,      // parts (intervals or sets), unordered
  Matrix,     // row-major elements; cols = number of columns
  Relation,   // chain [e0, e1, ..., en]; text = n op codes (see RelOp)
  Ratio,      // "3:4", "12:00", "9:30 pm": parts in order, never divided; text = "am" | "pm" | ""
  Text,       // text = free text (already lower-cased for comparison by the caller when needed)
};

// Relation operator codes stored one per char in a Relation node's text.
namespace RelOp {
constexpr char kEq = '=', kLt = '<', kLe = 'l', kGt = '>', kGe = 'g', kNe = '!', kApprox = '~', kIn = 'e';
}

// Node flags.
constexpr uint8_t kDecimal = 1;    // Number written with a decimal point or exponent (an inexact value)
constexpr uint8_t kParen = 2;      // Tuple written with round brackets
constexpr uint8_t kLeftOpen = 4;   // Interval
constexpr uint8_t kRightOpen = 8;  // Interval

struct Node {
  Kind kind = Kind::Number;
  uint8_t flags = 0;
  int32_t number = -1;        // Number: index into Tree::numbers
  int32_t cols = 0;           // Matrix: number of columns
  std::string text;           // Symbol/Constant/Func/Text name, Relation op codes
  std::vector<int32_t> kids;  // children, in order
};

struct Tree {
  std::vector<Node> nodes;
  std::vector<mpq_class> numbers;
  int32_t root = -1;

  const Node& at(int32_t i) const { return nodes[static_cast<size_t>(i)]; }
  int32_t add(Node n) {
    nodes.push_back(std::move(n));
    return static_cast<int32_t>(nodes.size() - 1);
  }
  int32_t add_number(mpq_class value, bool decimal);
  int32_t add_leaf(Kind kind, std::string text);
  int32_t add_op(Kind kind, std::vector<int32_t> kids, std::string text = {}, uint8_t flags = 0);
  // A node of `from` made a node of this tree, without its kids: its fields, and a Number's value copied
  // into `numbers`. Not added yet.
  Node adopt(const Tree& from, const Node& src);
  // Copies the subtree at `node` of `from` into this tree and returns its new index.
  int32_t copy_from(const Tree& from, int32_t node);
};

// A canonical, human-readable rendering used for reasons, logs and the structural fast path
// (identical renderings are equivalent). Sums and products keep their written order.
std::string to_string(const Tree& tree, int32_t node);
inline std::string to_string(const Tree& tree) { return tree.root < 0 ? std::string() : to_string(tree, tree.root); }

// True when the subtree contains a node of the given kind (bounded walk).
bool contains_kind(const Tree& tree, int32_t node, Kind kind);
// True when the subtree contains a Number literal written as a decimal.
bool contains_decimal(const Tree& tree, int32_t node);
// Collects the distinct Symbol names of the subtree (function names are not symbols).
void collect_symbols(const Tree& tree, int32_t node, std::vector<std::string>& out);

}  // namespace r1::rewards::math
