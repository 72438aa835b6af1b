// See math_compare.h. The Comparer walks both trees together; a Ref is (tree, node) so the two sides,
// and scratch trees made by expanding a ± b, can be compared in any combination. Recursion depth and
// the number of elements in unordered matches are capped, and every call ticks the budget.
#include "rewards/math/math_compare.h"

#include <cmath>
#include <deque>
#include <string>
#include <vector>

#include "rewards/math/math_exact.h"
#include "rewards/math/math_numeric.h"

namespace r1::rewards::math {
namespace {

struct Ref {
  const Tree* t = nullptr;
  int32_t n = -1;
  const Node& node() const { return t->at(n); }
  Kind kind() const { return node().kind; }
  Ref kid(size_t k) const { return Ref{t, node().kids[k]}; }
};

bool is_math_function(const std::string& name) {
  static const char* const kNames[] = {"sqrt", "root", "sin",  "cos",  "tan",  "cot",   "sec",  "csc",
                                       "asin", "acos", "atan", "sinh", "cosh", "tanh",  "log",  "exp",
                                       "abs",  "floor", "ceil", "fact", "binom", "gcd", "lcm", "max",
                                       "min",  "det",  "asec", "acot", "acsc"};
  for (const char* n : kNames)
    if (name == n) return true;
  return false;
}

// Something that can stand on the left of an assignment: x, x_1, \text{Area}, f(x), (p, q, r), AB, NO/BO —
// names only (symbols and words combined by products, quotients, user functions and tuples).
bool is_symbolic_lhs(Ref r, int depth = 0) {
  const Node& n = r.node();
  if (depth > 16) return false;
  switch (n.kind) {
    case Kind::Symbol:
    case Kind::Text:
      return true;
    case Kind::Func:
      if (is_math_function(n.text)) return false;
      break;
    case Kind::Tuple:
    case Kind::Mul:
    case Kind::Div:
      break;
    default:
      return false;
  }
  for (size_t k = 0; k < n.kids.size(); ++k) {
    Ref kid = r.kid(k);
    // Arguments of f(x) may be anything symbolic or numeric (f(2) = 5 is still an assignment).
    if (n.kind == Kind::Func) continue;
    if (!is_symbolic_lhs(kid, depth + 1)) return false;
  }
  return !n.kids.empty() || n.kind == Kind::Symbol || n.kind == Kind::Text;
}

// A relation chain as compared: \approx cut off (the exact value precedes it) or read as "=".
struct RelView {
  std::vector<Ref> operands;
  std::string ops;
};

RelView view(Ref r) {
  const Node& n = r.node();
  RelView v;
  for (size_t k = 0; k < n.kids.size(); ++k) v.operands.push_back(r.kid(k));
  v.ops = n.text;
  size_t a = v.ops.find(RelOp::kApprox);
  if (a != std::string::npos) {
    if (a > 0) {  // "x = 1/3 \approx 0.33": keep "x = 1/3"
      v.ops.resize(a);
      v.operands.resize(a + 1);
    } else if (!is_symbolic_lhs(v.operands[0])) {  // "1/3 \approx 0.33": the value is 1/3
      v.ops.clear();
      v.operands.resize(1);
    }
    for (char& c : v.ops)
      if (c == RelOp::kApprox) c = RelOp::kEq;
  }
  return v;
}

bool all_ops(const std::string& ops, char op) { return !ops.empty() && ops.find_first_not_of(op) == std::string::npos; }

bool is_assignment(const RelView& v) {
  return (all_ops(v.ops, RelOp::kEq) || v.ops == std::string(1, RelOp::kIn)) && is_symbolic_lhs(v.operands[0]);
}
bool is_equation(const RelView& v) { return all_ops(v.ops, RelOp::kEq); }

int infinity_sign(Ref r) {
  const Node& n = r.node();
  if (n.kind == Kind::Constant && n.text == "inf") return 1;
  if (n.kind == Kind::Neg) return -infinity_sign(r.kid(0));
  return 0;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Letters (lower-cased), digits and non-ASCII bytes of a text; punctuation and spaces go, except a colon
// between digits: "9:00 p.m." -> "9:00pm", so "\text{12:30}" does not read as "\text{1:230}".
std::string normalize_text(const std::string& s) {
  std::string out;
  for (size_t k = 0; k < s.size(); ++k) {
    char c = s[k];
    unsigned char u = static_cast<unsigned char>(c);
    if (u >= 0x80 || is_digit(c) || (c >= 'a' && c <= 'z')) {
      out += c;
    } else if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (c == ':' && k > 0 && is_digit(s[k - 1]) && k + 1 < s.size() && is_digit(s[k + 1])) {
      out += c;
    }
  }
  return out;
}

// The words of a Text node, or the letters of a symbol / product of symbols ("abc" typed without \text).
bool text_of(Ref r, std::string& out) {
  const Node& n = r.node();
  switch (n.kind) {
    case Kind::Text:
    case Kind::Symbol:
      out += n.text;
      return true;
    case Kind::Constant:
      if (n.text != "e" && n.text != "i") return false;
      out += n.text;
      return true;
    case Kind::Mul:
      for (size_t k = 0; k < n.kids.size(); ++k)
        if (!text_of(r.kid(k), out)) return false;
      return true;
    default:
      return false;
  }
}

// "(a, b)": a point or an open interval.
bool is_pair(Ref r) {
  const Node& n = r.node();
  return n.kind == Kind::Tuple && (n.flags & kParen) && n.kids.size() == 2;
}

bool is_collection(Kind k) { return k == Kind::Tuple || k == Kind::Set || k == Kind::List; }
// Sets and bare lists hold several answers in no order; a tuple is one ordered answer.
bool is_unordered(Kind k) { return k == Kind::Set || k == Kind::List; }
bool is_setlike(Kind k) { return k == Kind::Interval || k == Kind::Union; }

// One piece of a subset of the real line: [lo, hi] with open/closed ends; inf = -1/+1 for infinite ends.
struct Span {
  Ref lo, hi;
  int lo_inf = 0, hi_inf = 0;
  bool lo_open = false, hi_open = false;
};

class Comparer {
 public:
  Comparer(const CompareOptions& options, Budget& budget) : options_(options), budget_(budget) {}

  bool eq(Ref g, Ref p) {
    if (!budget_.tick() || depth_ > 48) return false;
    ++depth_;
    bool result = eq_inner(g, p);
    --depth_;
    return result;
  }

 private:
  const CompareOptions& options_;
  Budget& budget_;
  int depth_ = 0;
  std::deque<Tree> scratch_;

  // Relations with nothing left to relate (a degenerate approx chain) are their value.
  Ref effective(Ref r) {
    if (r.kind() != Kind::Relation) return r;
    RelView v = view(r);
    return v.ops.empty() ? v.operands[0] : r;
  }

  bool eq_inner(Ref g, Ref p) {
    g = effective(g);
    p = effective(p);
    if (to_string(*g.t, g.n) == to_string(*p.t, p.n)) return true;

    bool g_rel = g.kind() == Kind::Relation, p_rel = p.kind() == Kind::Relation;
    if (g_rel && p_rel) return relation_eq(g, p);
    if (g_rel) {
      RelView gv = view(g);
      if (is_assignment(gv)) return eq(gv.operands.back(), p);  // gold "x = 3" vs "3"
      if (is_setlike(p.kind()) || p.kind() == Kind::Set || is_pair(p)) return spans_eq(g, p);
      return false;
    }
    if (p_rel) {
      RelView pv = view(p);
      if (is_assignment(pv) || is_equation(pv)) return eq(g, pv.operands.back());  // "x = 3", "1 + 2 = 3"
      if (is_setlike(g.kind()) || g.kind() == Kind::Set || is_pair(g)) return spans_eq(g, p);
      return false;
    }

    bool g_pm = contains_kind(*g.t, g.n, Kind::PlusMinus), p_pm = contains_kind(*p.t, p.n, Kind::PlusMinus);
    if (g_pm || p_pm) return plus_minus_eq(g, p, g_pm, p_pm);

    Kind kg = g.kind(), kp = p.kind();
    if (kg == Kind::Ratio || kp == Kind::Ratio) return ratio_eq(g, p);
    if (kg == Kind::Text || kp == Kind::Text) return text_eq(g, p);
    if (is_setlike(kg) || is_setlike(kp)) return spans_eq(g, p);
    if (kg == Kind::Matrix || kp == Kind::Matrix) return matrix_eq(g, p);
    if (is_collection(kg) || is_collection(kp)) return collection_eq(g, p);
    return scalar_eq(g, p);
  }

  // ---- relations ----
  // Difference lhs - rhs at a random point (for the constant-ratio test).
  bool difference(const RelView& v, int trial, bool percent_divides, Complex& out) {
    EvalOptions eo;
    eo.percent_divides = percent_divides;
    Complex a, b;
    const Ref& l = v.operands.front();
    const Ref& r = v.operands.back();
    if (!eval_numeric(*l.t, l.n, eo, trial, budget_, a) || !eval_numeric(*r.t, r.n, eo, trial, budget_, b))
      return false;
    out = a - b;
    return std::isfinite(out.real()) && std::isfinite(out.imag());
  }

  // g_lhs - g_rhs == c * (p_lhs - p_rhs) for one constant c (c > 0 when positive_only).
  bool proportional(const RelView& g, const RelView& p, bool positive_only) {
    Complex c;
    bool have_c = false;
    int valid = 0;
    for (int trial = 0; trial < options_.trials; ++trial) {
      Complex a, b;
      if (!difference(g, trial, true, a) || !difference(p, trial, true, b)) continue;
      double scale = std::max(std::abs(a), std::abs(b));
      if (scale < 1e-300) continue;
      if (std::abs(b) < 1e-12 * scale || std::abs(a) < 1e-12 * scale) return false;
      if (!have_c) {
        c = a / b;
        have_c = true;
        if (positive_only && (c.real() <= 0 || std::abs(c.imag()) > 1e-9 * std::abs(c))) return false;
      } else if (std::abs(a - c * b) > options_.symbolic_rel_tol * scale) {
        return false;
      }
      ++valid;
    }
    return valid >= 2;
  }

  static char flip(char op) {
    switch (op) {
      case RelOp::kGt: return RelOp::kLt;
      case RelOp::kGe: return RelOp::kLe;
      case RelOp::kLt: return RelOp::kGt;
      case RelOp::kLe: return RelOp::kGe;
    }
    return op;
  }

  // Rewrites a chain with > / >= as the reversed chain with < / <=.
  static RelView ascending(RelView v) {
    if (v.ops.empty() || (v.ops[0] != RelOp::kGt && v.ops[0] != RelOp::kGe)) return v;
    RelView r;
    r.operands.assign(v.operands.rbegin(), v.operands.rend());
    for (auto it = v.ops.rbegin(); it != v.ops.rend(); ++it) r.ops += flip(*it);
    return r;
  }

  bool relation_eq(Ref g, Ref p) {
    RelView gv = view(g), pv = view(p);
    // Both assignments: the same left side (compared as text) and equal values.
    if (is_assignment(gv) && is_assignment(pv) && is_equation(gv) == is_equation(pv) &&
        to_string(*gv.operands[0].t, gv.operands[0].n) == to_string(*pv.operands[0].t, pv.operands[0].n))
      return eq(gv.operands.back(), pv.operands.back());
    gv = ascending(gv);
    pv = ascending(pv);
    if (gv.ops.size() == 1 && pv.ops.size() == 1) {
      char og = gv.ops[0], op = pv.ops[0];
      if ((og == RelOp::kEq && op == RelOp::kEq) || (og == RelOp::kNe && op == RelOp::kNe)) {
        if (proportional(gv, pv, false)) return true;
      } else if (og == op && (og == RelOp::kLt || og == RelOp::kLe)) {
        // a < b  <=>  b - a > 0: compare (rhs - lhs) up to a positive factor.
        if (proportional(gv, pv, true)) return true;
      } else if (og == RelOp::kIn && op == RelOp::kIn) {
        return eq(gv.operands[1], pv.operands[1]);
      }
    } else if (gv.ops == pv.ops && gv.operands.size() == pv.operands.size()) {
      bool all = true;
      for (size_t k = 0; k < gv.operands.size() && all; ++k) all = eq(gv.operands[k], pv.operands[k]);
      if (all) return true;
    }
    return spans_eq(g, p);
  }

  // ---- subsets of the real line ----
  // The variable of a one-variable condition: a symbol, or any name-like term (f(x) in 0 < f(x) < 1).
  bool variable_of(Ref r, std::string& var) {
    if (!is_symbolic_lhs(r) || r.kind() == Kind::Tuple) return false;
    std::string name = to_string(*r.t, r.n);
    if (!var.empty() && var != name) return false;
    var = name;
    return true;
  }

  bool symbol_free(Ref r) {
    std::vector<std::string> names;
    collect_symbols(*r.t, r.n, names);
    return names.empty();
  }

  Span make_span(Ref lo, Ref hi, bool lo_open, bool hi_open) {
    Span s;
    s.lo = lo;
    s.hi = hi;
    s.lo_inf = infinity_sign(lo);
    s.hi_inf = infinity_sign(hi);
    s.lo_open = lo_open || s.lo_inf != 0;
    s.hi_open = hi_open || s.hi_inf != 0;
    return s;
  }

  Ref infinity(int sign) {
    scratch_.emplace_back();
    Tree& t = scratch_.back();
    int32_t inf = t.add_leaf(Kind::Constant, "inf");
    t.root = sign > 0 ? inf : t.add_op(Kind::Neg, {inf});
    return Ref{&t, t.root};
  }

  bool relation_spans(Ref r, std::vector<Span>& out, std::string& var) {
    RelView v = ascending(view(r));
    if (v.ops.size() == 1 && v.ops[0] == RelOp::kIn) {
      if (!variable_of(v.operands[0], var)) return false;
      return spans_of(v.operands[1], out, var);
    }
    if (v.ops.size() == 1 && (v.ops[0] == RelOp::kEq || v.ops[0] == RelOp::kNe)) {
      Ref value = v.operands[1];
      if (!variable_of(v.operands[0], var) || !symbol_free(value)) return false;
      if (v.ops[0] == RelOp::kEq) {
        out.push_back(make_span(value, value, false, false));
      } else {
        out.push_back(make_span(infinity(-1), value, true, true));
        out.push_back(make_span(value, infinity(1), true, true));
      }
      return true;
    }
    for (char op : v.ops)
      if (op != RelOp::kLt && op != RelOp::kLe) return false;
    if (v.ops.size() == 1) {
      bool strict = v.ops[0] == RelOp::kLt;
      std::string probe = var;
      if (symbol_free(v.operands[1]) && variable_of(v.operands[0], probe)) {  // x < b
        var = probe;
        out.push_back(make_span(infinity(-1), v.operands[1], true, strict));
        return true;
      }
      if (symbol_free(v.operands[0]) && variable_of(v.operands[1], probe)) {  // a < x
        var = probe;
        out.push_back(make_span(v.operands[0], infinity(1), strict, true));
        return true;
      }
      return false;
    }
    if (v.ops.size() == 2 && symbol_free(v.operands[0]) && symbol_free(v.operands[2]) &&
        variable_of(v.operands[1], var)) {  // a < x <= b
      out.push_back(make_span(v.operands[0], v.operands[2], v.ops[0] == RelOp::kLt, v.ops[1] == RelOp::kLt));
      return true;
    }
    return false;
  }

  bool spans_of(Ref r, std::vector<Span>& out, std::string& var) {
    if (out.size() > 64) return false;
    const Node& n = r.node();
    switch (n.kind) {
      case Kind::Interval:
        out.push_back(make_span(r.kid(0), r.kid(1), n.flags & kLeftOpen, n.flags & kRightOpen));
        return true;
      case Kind::Tuple:
        if (!(n.flags & kParen) || n.kids.size() != 2) return false;
        out.push_back(make_span(r.kid(0), r.kid(1), true, true));
        return true;
      case Kind::Union:
        for (size_t k = 0; k < n.kids.size(); ++k)
          if (!spans_of(r.kid(k), out, var)) return false;
        return true;
      case Kind::Set:
        for (size_t k = 0; k < n.kids.size(); ++k) out.push_back(make_span(r.kid(k), r.kid(k), false, false));
        return true;
      case Kind::Relation:
        return relation_spans(r, out, var);
      case Kind::List:  // "x < 1 or x > 3"
        for (size_t k = 0; k < n.kids.size(); ++k) {
          if (r.kid(k).kind() != Kind::Relation) return false;
          if (!relation_spans(r.kid(k), out, var)) return false;
        }
        return true;
      default:
        return false;
    }
  }

  bool bound_eq(Ref a, int a_inf, Ref b, int b_inf) {
    if (a_inf != 0 || b_inf != 0) return a_inf == b_inf;
    return eq(a, b);
  }

  bool span_eq(const Span& a, const Span& b) {
    return a.lo_open == b.lo_open && a.hi_open == b.hi_open && bound_eq(a.lo, a.lo_inf, b.lo, b.lo_inf) &&
           bound_eq(a.hi, a.hi_inf, b.hi, b.hi_inf);
  }

  bool spans_eq(Ref g, Ref p) {
    std::vector<Span> gs, ps;
    std::string gvar, pvar;
    if (!spans_of(g, gs, gvar) || !spans_of(p, ps, pvar)) return false;
    if (gs.size() != ps.size()) return false;
    if (!gvar.empty() && !pvar.empty() && gvar != pvar) return false;  // x = 5 is not y = 5
    std::vector<bool> used(ps.size(), false);
    for (const Span& s : gs) {
      bool found = false;
      for (size_t k = 0; k < ps.size() && !found; ++k) {
        if (!used[k] && span_eq(s, ps[k])) used[k] = found = true;
      }
      if (!found) return false;
    }
    return true;
  }

  // ---- collections ----
  std::vector<Ref> elements(Ref r) {
    std::vector<Ref> out;
    if (is_collection(r.kind())) {
      for (size_t k = 0; k < r.node().kids.size(); ++k) out.push_back(r.kid(k));
    } else {
      out.push_back(r);
    }
    return out;
  }

  std::vector<Ref> dedupe(const std::vector<Ref>& items) {
    std::vector<Ref> out;
    for (const Ref& x : items) {
      bool seen = false;
      for (const Ref& y : out)
        if (eq(y, x)) {
          seen = true;
          break;
        }
      if (!seen) out.push_back(x);
    }
    return out;
  }

  bool multiset_eq(std::vector<Ref> a, std::vector<Ref> b, bool as_sets) {
    if (a.size() > 64 || b.size() > 64) return false;
    if (as_sets) {
      a = dedupe(a);
      b = dedupe(b);
    }
    if (a.size() != b.size()) return false;
    std::vector<bool> used(b.size(), false);
    for (const Ref& x : a) {
      bool found = false;
      for (size_t k = 0; k < b.size() && !found; ++k)
        if (!used[k] && eq(x, b[k])) used[k] = found = true;
      if (!found) return false;
    }
    return true;
  }

  bool ordered_eq(const std::vector<Ref>& a, const std::vector<Ref>& b) {
    if (a.size() != b.size()) return false;
    for (size_t k = 0; k < a.size(); ++k)
      if (!eq(a[k], b[k])) return false;
    return true;
  }

  bool collection_eq(Ref g, Ref p) {
    Kind kg = g.kind(), kp = p.kind();
    std::vector<Ref> ge = elements(g), pe = elements(p);
    if (!is_collection(kg) || !is_collection(kp)) {  // a one-element set / list equals its element
      if (kg == Kind::Tuple || kp == Kind::Tuple) return false;
      if (ge.size() > 64 || pe.size() > 64) return false;
      ge = dedupe(ge);
      pe = dedupe(pe);
      if (ge.size() != 1 || pe.size() != 1) return false;
      return eq(ge[0], pe[0]);
    }
    // A tuple on either side keeps its order, even against a set: {1, 3} is (1, 3) as written, never (3, 1).
    if (kg == Kind::Tuple || kp == Kind::Tuple) return ordered_eq(ge, pe);
    return multiset_eq(ge, pe, true);
  }

  bool matrix_eq(Ref g, Ref p) {
    const Node& a = g.node();
    const Node& b = p.node();
    if (a.kind == Kind::Matrix && b.kind == Kind::Matrix) {
      if (a.cols != b.cols || a.kids.size() != b.kids.size()) return false;
      for (size_t k = 0; k < a.kids.size(); ++k)
        if (!eq(g.kid(k), p.kid(k))) return false;
      return true;
    }
    // A row or column vector equals a tuple of the same entries.
    const Node& m = a.kind == Kind::Matrix ? a : b;
    const Node& other = a.kind == Kind::Matrix ? b : a;
    if (other.kind != Kind::Tuple) return false;
    size_t rows = m.kids.size() / static_cast<size_t>(std::max<int32_t>(1, m.cols));
    if (m.cols != 1 && rows != 1) return false;
    std::vector<Ref> ge, pe;
    for (size_t k = 0; k < a.kids.size(); ++k) ge.push_back(g.kid(k));
    for (size_t k = 0; k < b.kids.size(); ++k) pe.push_back(p.kid(k));
    return ordered_eq(ge, pe);
  }

  // ---- plus-minus ----
  int32_t copy_expanded(const Tree& src, int32_t i, unsigned mask, int& counter, Tree& dst) {
    const Node& n = src.at(i);
    if (n.kind == Kind::PlusMinus) {
      bool minus = (mask >> counter++) & 1u;
      int32_t a = copy_expanded(src, n.kids[0], mask, counter, dst);
      int32_t b = copy_expanded(src, n.kids[1], mask, counter, dst);
      if (minus) b = dst.add_op(Kind::Neg, {b});
      return dst.add_op(Kind::Add, {a, b});
    }
    Node copy = dst.adopt(src, n);
    for (int32_t k : n.kids) copy.kids.push_back(copy_expanded(src, k, mask, counter, dst));
    return dst.add(std::move(copy));
  }

  int count_kind(const Tree& t, int32_t i, Kind kind) {
    const Node& n = t.at(i);
    int c = n.kind == kind ? 1 : 0;
    for (int32_t k : n.kids) c += count_kind(t, k, kind);
    return c;
  }

  // The values a ± b stands for (up to 2^3 of them), or the elements of a set or list. A tuple is one
  // value: (\pm 1, 0) stands for the tuples (1, 0) and (-1, 0), not for the bag {1, -1, 0}.
  bool variants(Ref r, bool has_pm, std::vector<Ref>& out) {
    if (!has_pm) {
      if (is_unordered(r.kind())) {
        out = elements(r);
      } else {
        out.assign(1, r);
      }
      return true;
    }
    if (is_unordered(r.kind())) {  // {1 \pm \sqrt 5, -2}
      for (size_t k = 0; k < r.node().kids.size(); ++k) {
        std::vector<Ref> sub;
        Ref kid = r.kid(k);
        if (!variants(kid, contains_kind(*kid.t, kid.n, Kind::PlusMinus), sub)) return false;
        out.insert(out.end(), sub.begin(), sub.end());
      }
      return true;
    }
    int count = count_kind(*r.t, r.n, Kind::PlusMinus);
    if (count > 3) return false;
    for (unsigned mask = 0; mask < (1u << count); ++mask) {
      scratch_.emplace_back();
      Tree& t = scratch_.back();
      int counter = 0;
      t.root = copy_expanded(*r.t, r.n, mask, counter, t);
      out.push_back(Ref{&t, t.root});
    }
    return true;
  }

  bool plus_minus_eq(Ref g, Ref p, bool g_pm, bool p_pm) {
    std::vector<Ref> gv, pv;
    if (!variants(g, g_pm, gv) || !variants(p, p_pm, pv)) return false;
    return multiset_eq(gv, pv, true);
  }

  // ---- ratios and clock times ----
  // The hour of a whole-hour time "7:00" / "7:00 pm" (two parts, the second a literal 0), or false.
  static bool whole_hour(Ref r, Ref& hour) {
    const Node& n = r.node();
    if (n.kind != Kind::Ratio || n.kids.size() != 2) return false;
    const Node& minutes = r.kid(1).node();
    if (minutes.kind != Kind::Number || r.t->numbers[static_cast<size_t>(minutes.number)] != 0) return false;
    hour = r.kid(0);
    return true;
  }

  // Part by part in order: 12:00 != 1:00, 3:4 != 4:3 (a ratio is neither its quotient nor a tuple or list
  // of its parts). An am/pm in the gold must be in the prediction (1:00 pm != 1:00 am, != 1:00); a gold
  // without one does not decide it. A whole-hour time equals the bare hour, the GSM8K style (gold 7,
  // "7:00 pm"), unless the gold's am/pm is lost that way.
  bool ratio_eq(Ref g, Ref p) {
    std::string g_half = g.kind() == Kind::Ratio ? g.node().text : std::string();
    if (!g_half.empty() && (p.kind() != Kind::Ratio || p.node().text != g_half)) return false;
    Ref hour;
    if (p.kind() == Kind::Number && whole_hour(g, hour)) return eq(hour, p);
    if (g.kind() == Kind::Number && whole_hour(p, hour)) return eq(g, hour);
    if (g.kind() != Kind::Ratio || p.kind() != Kind::Ratio) return false;
    std::vector<Ref> gp, pp;
    for (size_t k = 0; k < g.node().kids.size(); ++k) gp.push_back(g.kid(k));
    for (size_t k = 0; k < p.node().kids.size(); ++k) pp.push_back(p.kid(k));
    return ordered_eq(gp, pp);
  }

  // ---- text ----
  bool text_eq(Ref g, Ref p) {
    std::string a, b;
    if (!text_of(g, a) || !text_of(p, b)) return false;
    a = normalize_text(a);
    b = normalize_text(b);
    return !a.empty() && a == b;
  }

  // ---- scalars ----
  bool close(const Complex& a, const Complex& b, bool decimal, double rel_tol) {
    if (!std::isfinite(a.real()) || !std::isfinite(a.imag()) || !std::isfinite(b.real()) ||
        !std::isfinite(b.imag()))
      return false;
    double scale = std::max(std::abs(a), std::abs(b));
    double diff = std::abs(a - b);
    if (decimal) return diff <= std::pow(10.0, -options_.float_places) + 1e-12 * scale;
    return diff <= rel_tol * scale + 1e-12;
  }

  bool scalar_eq_mode(Ref g, Ref p, bool percent_divides) {
    int gi = infinity_sign(g), pi = infinity_sign(p);
    if (gi != 0 || pi != 0) return gi == pi;
    EvalOptions eo;
    eo.percent_divides = percent_divides;
    bool decimal = contains_decimal(*g.t, g.n) || contains_decimal(*p.t, p.n);
    mpq_class gx, px;
    if (eval_exact(*g.t, g.n, eo, budget_, gx) && eval_exact(*p.t, p.n, eo, budget_, px)) {
      if (gx == px) return true;
      return decimal && round_scaled(gx, options_.float_places) == round_scaled(px, options_.float_places);
    }
    std::vector<std::string> symbols;
    collect_symbols(*g.t, g.n, symbols);
    collect_symbols(*p.t, p.n, symbols);
    if (symbols.empty()) {
      Complex a, b;
      if (!eval_numeric(*g.t, g.n, eo, 0, budget_, a) || !eval_numeric(*p.t, p.n, eo, 0, budget_, b)) return false;
      return close(a, b, decimal, options_.rel_tol);
    }
    int valid = 0;
    for (int trial = 0; trial < options_.trials; ++trial) {
      Complex a, b;
      if (!eval_numeric(*g.t, g.n, eo, trial, budget_, a) || !eval_numeric(*p.t, p.n, eo, trial, budget_, b))
        return false;
      if (!std::isfinite(std::abs(a)) || !std::isfinite(std::abs(b))) continue;
      if (!close(a, b, false, options_.symbolic_rel_tol)) return false;
      ++valid;
    }
    return valid >= 2;
  }

  bool scalar_eq(Ref g, Ref p) {
    bool has_percent = contains_kind(*g.t, g.n, Kind::Percent) || contains_kind(*p.t, p.n, Kind::Percent);
    switch (options_.percent) {
      case PercentMode::Fraction:
        return scalar_eq_mode(g, p, true);
      case PercentMode::Ignore:
        return scalar_eq_mode(g, p, false);
      case PercentMode::Flexible:
        return scalar_eq_mode(g, p, true) || (has_percent && scalar_eq_mode(g, p, false));
    }
    return false;
  }
};

}  // namespace

bool equivalent(const Tree& gold, const Tree& pred, const CompareOptions& options, Budget& budget) {
  if (gold.root < 0 || pred.root < 0) return false;
  Comparer comparer(options, budget);
  return comparer.eq(Ref{&gold, gold.root}, Ref{&pred, pred.root});
}

}  // namespace r1::rewards::math
