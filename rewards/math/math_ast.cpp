// Tree construction helpers and the canonical rendering of math_ast.h. The rendering is deliberately
// plain (sympy-like "x^2 + 1", "(1, 2)", "{1, 2}", "[0, 1)") so that reasons in logs read naturally and
// two answers written the same way compare equal without any evaluation.
#include "rewards/math/math_ast.h"

#include <algorithm>

namespace r1::rewards::math {

int32_t Tree::add_number(mpq_class value, bool decimal) {
  numbers.push_back(std::move(value));
  Node n;
  n.kind = Kind::Number;
  n.flags = decimal ? kDecimal : 0;
  n.number = static_cast<int32_t>(numbers.size() - 1);
  return add(std::move(n));
}

int32_t Tree::add_leaf(Kind kind, std::string text) {
  Node n;
  n.kind = kind;
  n.text = std::move(text);
  return add(std::move(n));
}

int32_t Tree::add_op(Kind kind, std::vector<int32_t> kids, std::string text, uint8_t flags) {
  Node n;
  n.kind = kind;
  n.kids = std::move(kids);
  n.text = std::move(text);
  n.flags = flags;
  return add(std::move(n));
}

Node Tree::adopt(const Tree& from, const Node& src) {
  Node n;
  n.kind = src.kind;
  n.flags = src.flags;
  n.cols = src.cols;
  n.text = src.text;
  if (src.kind == Kind::Number) {
    numbers.push_back(from.numbers[static_cast<size_t>(src.number)]);
    n.number = static_cast<int32_t>(numbers.size() - 1);
  }
  return n;
}

int32_t Tree::copy_from(const Tree& from, int32_t node) {
  const Node& src = from.at(node);
  Node n = adopt(from, src);
  n.kids.reserve(src.kids.size());
  for (int32_t k : src.kids) n.kids.push_back(copy_from(from, k));
  return add(std::move(n));
}

namespace {

const char* rel_text(char op) {
  switch (op) {
    case RelOp::kEq: return " = ";
    case RelOp::kLt: return " < ";
    case RelOp::kLe: return " <= ";
    case RelOp::kGt: return " > ";
    case RelOp::kGe: return " >= ";
    case RelOp::kNe: return " != ";
    case RelOp::kApprox: return " ~ ";
    case RelOp::kIn: return " in ";
  }
  return " ? ";
}

void render(const Tree& t, int32_t i, std::string& out);

void render_list(const Tree& t, const Node& n, const char* sep, std::string& out) {
  for (size_t k = 0; k < n.kids.size(); ++k) {
    if (k) out += sep;
    render(t, n.kids[k], out);
  }
}

// Children of sums/products/powers get brackets unless they are atoms.
void render_operand(const Tree& t, int32_t i, std::string& out) {
  Kind k = t.at(i).kind;
  bool atom = k == Kind::Number || k == Kind::Symbol || k == Kind::Constant || k == Kind::Func ||
              k == Kind::Tuple || k == Kind::Set || k == Kind::Matrix || k == Kind::Text;
  if (k == Kind::Number && sgn(t.numbers[static_cast<size_t>(t.at(i).number)]) < 0) atom = false;
  if (atom) {
    render(t, i, out);
  } else {
    out += '(';
    render(t, i, out);
    out += ')';
  }
}

// Sums, products, quotients, powers, a ± b, ratios: the operands with `sep` between them.
void render_operands(const Tree& t, const Node& n, const char* sep, std::string& out) {
  for (size_t k = 0; k < n.kids.size(); ++k) {
    if (k) out += sep;
    render_operand(t, n.kids[k], out);
  }
}

// What stands between the operands of a sum, product, quotient, power or a ± b.
const char* operator_text(Kind k) {
  if (k == Kind::Add) return " + ";
  if (k == Kind::Mul) return "*";
  if (k == Kind::Div) return "/";
  if (k == Kind::Pow) return "^";
  return " +- ";  // PlusMinus
}

// Function arguments, tuples, sets, intervals: the elements between `open` and `close`.
void render_bracketed(const Tree& t, const Node& n, const char* open, const char* close, std::string& out) {
  out += open;
  render_list(t, n, ", ", out);
  out += close;
}

void render(const Tree& t, int32_t i, std::string& out) {
  const Node& n = t.at(i);
  switch (n.kind) {
    case Kind::Number: {
      const mpq_class& q = t.numbers[static_cast<size_t>(n.number)];
      out += q.get_str();
      return;
    }
    case Kind::Symbol:
    case Kind::Constant:
      out += n.text;
      return;
    case Kind::Text:
      out += "\"" + n.text + "\"";
      return;
    case Kind::Add:
    case Kind::Mul:
    case Kind::Div:
    case Kind::Pow:
    case Kind::PlusMinus:
      render_operands(t, n, operator_text(n.kind), out);
      return;
    case Kind::Neg:
      out += "-";
      render_operand(t, n.kids[0], out);
      return;
    case Kind::Func:
      out += n.text;
      render_bracketed(t, n, "(", ")", out);
      return;
    case Kind::Percent:
      render_operand(t, n.kids[0], out);
      out += "%";
      return;
    case Kind::Tuple:
      render_bracketed(t, n, "(", ")", out);
      return;
    case Kind::Set:
      render_bracketed(t, n, "{", "}", out);
      return;
    case Kind::List:
      render_list(t, n, ", ", out);
      return;
    case Kind::Interval:
      render_bracketed(t, n, (n.flags & kLeftOpen) ? "(" : "[", (n.flags & kRightOpen) ? ")" : "]", out);
      return;
    case Kind::Union:
      render_list(t, n, " U ", out);
      return;
    case Kind::Matrix: {
      out += "[";
      size_t cols = static_cast<size_t>(std::max<int32_t>(1, n.cols));
      for (size_t k = 0; k < n.kids.size(); ++k) {
        if (k) out += (k % cols == 0) ? "; " : ", ";
        render(t, n.kids[k], out);
      }
      out += "]";
      return;
    }
    case Kind::Ratio:
      render_operands(t, n, ":", out);
      if (!n.text.empty()) out += " " + n.text;
      return;
    case Kind::Relation:
      for (size_t k = 0; k < n.kids.size(); ++k) {
        if (k) out += rel_text(n.text[k - 1]);
        render(t, n.kids[k], out);
      }
      return;
  }
}

}  // namespace

std::string to_string(const Tree& tree, int32_t node) {
  std::string out;
  render(tree, node, out);
  return out;
}

bool contains_kind(const Tree& tree, int32_t node, Kind kind) {
  const Node& n = tree.at(node);
  if (n.kind == kind) return true;
  for (int32_t k : n.kids)
    if (contains_kind(tree, k, kind)) return true;
  return false;
}

bool contains_decimal(const Tree& tree, int32_t node) {
  const Node& n = tree.at(node);
  if (n.kind == Kind::Number) return (n.flags & kDecimal) != 0;
  for (int32_t k : n.kids)
    if (contains_decimal(tree, k)) return true;
  return false;
}

void collect_symbols(const Tree& tree, int32_t node, std::vector<std::string>& out) {
  const Node& n = tree.at(node);
  if (n.kind == Kind::Symbol) {
    if (std::find(out.begin(), out.end(), n.text) == out.end()) out.push_back(n.text);
    return;
  }
  for (int32_t k : n.kids) collect_symbols(tree, k, out);
}

}  // namespace r1::rewards::math
