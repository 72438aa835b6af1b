// See math_parser.h. Grammar, loosest binding first:
//
//   answer   := list EOF
//   list     := relation ( (',' | ';' | 'and' | 'or') relation )*          -> List when 2+ items
//   relation := ratio ( relop ratio )*                                    -> Relation chain
//   ratio    := union ( ':' union )*    a colon between two numbers only  -> Ratio ("3:4", "12:00 pm")
//   union    := sum ( '\cup' sum )*                                       -> Union
//   sum      := [+|-|\pm] product ( (+|-|\pm|\mp) product )*              -> Add / PlusMinus
//   product  := unary ( ('*'|\cdot|\times|'/'|\div| <implicit>) unary )*   -> Mul / Div
//   unary    := ('-'|'+'|\pm) unary | power
//   power    := postfix ( '^' exponent )?                                 (right associative)
//   postfix  := primary ( '!' | '%' | 'percent' | "'" | '_' sub )*
//   primary  := number | letter | word | \command ... | ( ... ) | [ ... ] | { ... } | \{ ... \} | |x|
//               | \begin{pmatrix} ... \end{pmatrix}
//
// Failure is an exception (ParseFailure) caught at the top: parse errors are rare on real answers and
// this keeps every rule a straight line.
#include "rewards/math/math_parser.h"

#include <algorithm>
#include <cstring>

#include "rewards/math/math_exact.h"
#include "rewards/math/math_lexer.h"

namespace r1::rewards::math {
namespace {

struct ParseFailure {
  std::string what;
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool in_list(std::string_view s, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (s == n) return true;
  return false;
}

// Function names accepted as plain words or \commands, mapped to the evaluator's names.
const char* function_name(std::string_view w) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"sin", "sin"},     {"cos", "cos"},       {"tan", "tan"},       {"cot", "cot"},   {"sec", "sec"},
      {"csc", "csc"},     {"arcsin", "asin"},   {"arccos", "acos"},   {"arctan", "atan"}, {"asin", "asin"},
      {"acos", "acos"},   {"atan", "atan"},     {"sinh", "sinh"},     {"cosh", "cosh"}, {"tanh", "tanh"},
      {"log", "log"},     {"ln", "log"},        {"exp", "exp"},       {"sqrt", "sqrt"}, {"gcd", "gcd"},
      {"lcm", "lcm"},     {"max", "max"},       {"min", "min"},       {"abs", "abs"},   {"floor", "floor"},
      {"ceil", "ceil"},   {"arcsec", "asec"},   {"arccot", "acot"},   {"arccsc", "acsc"}, {"det", "det"},
  };
  for (const auto& [from, to] : kNames)
    if (w == from) return to;
  return nullptr;
}

const char* const kGreek[] = {"alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta",
                              "theta", "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron",
                              "rho", "varrho", "sigma", "varsigma", "tau", "upsilon", "phi", "varphi", "chi",
                              "psi", "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma",
                              "Upsilon", "Phi", "Psi", "Omega", "ell", "hbar"};

bool is_greek(std::string_view name) {
  for (const char* g : kGreek)
    if (name == g) return true;
  return false;
}

// Commands that only style their argument.
bool is_style_command(std::string_view name) {
  return in_list(name, {"mathbf", "boldsymbol", "bm", "vec", "overline", "bar", "hat", "tilde", "widehat",
                        "widetilde", "overrightarrow", "overleftarrow", "mathcal", "mathscr", "mathfrak",
                        "underline", "ensuremath", "mathring", "dot", "ddot", "check", "acute", "grave",
                        "breve", "textcolor", "color", "cancel", "mathop", "underbrace", "overbrace"});
}

// Short letter runs that are words (units, common answers) rather than products of variables.
bool is_short_word(std::string_view w) {
  static const char* const kWords[] = {
      "cm", "mm", "km", "kg", "mg", "ft", "yd", "mi", "hr", "hrs", "lb", "lbs", "oz", "ml", "mL", "sec",
      "min", "day", "yes", "no", "odd", "and", "or", "the", "of", "all", "per", "mph", "kph", "kmh", "deg",
      "rad", "sq", "cu", "am", "pm", "AM", "PM", "th", "st", "nd", "rd", "ms", "cc", "gal", "qt", "pt", "in",
      "yr", "yrs", "wk", "sqft", "none", "not", "is", "are", "has", "cents", "km", "Yes", "No", "YES", "NO"};
  for (const char* k : kWords)
    if (w == k) return true;
  return false;
}

bool is_separator_word(std::string_view w) {
  std::string l = lower(w);
  return l == "and" || l == "or";
}

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, Tree& tree, const ParseLimits& limits)
      : toks_(tokens), tree_(tree), limits_(limits) {}

  int32_t parse() {
    // A leading "=" or ":" (from "x = \boxed{= 5}" or "answer: 5") carries nothing.
    while (peek().type == Tok::Op && (peek().text == "=" || peek().text == ":")) advance();
    int32_t node = parse_list();
    if (peek().type != Tok::Eof) fail("unexpected token '", peek().text, "'");
    return node;
  }

 private:
  const std::vector<Token>& toks_;
  Tree& tree_;
  const ParseLimits& limits_;
  size_t pos_ = 0;
  int depth_ = 0;
  int abs_depth_ = 0;
  bool in_matrix_ = false;
  // A pending remainder of a split number token ("\frac12" -> "1", "2"; "\sqrt23" -> "2", "3").
  std::string_view pending_number_;
  std::string_view pending_word_;

  struct DepthGuard {
    Parser& p;
    explicit DepthGuard(Parser& parser) : p(parser) {
      if (++p.depth_ > p.limits_.max_depth) p.fail("nesting deeper than ", p.limits_.max_depth);
    }
    ~DepthGuard() { --p.depth_; }
  };

  template <class... Parts>
  [[noreturn]] void fail(Parts&&... parts) {
    std::string msg;
    ((msg += to_str(parts)), ...);
    throw ParseFailure{msg};
  }
  static std::string to_str(std::string_view s) { return std::string(s); }
  static std::string to_str(const char* s) { return s; }
  static std::string to_str(int v) { return std::to_string(v); }

  // ---- token access (RowSep / ColSep are whitespace outside matrices) ----
  void skip_layout() {
    if (in_matrix_) return;
    while (toks_[pos_].type == Tok::RowSep || toks_[pos_].type == Tok::ColSep) ++pos_;
  }
  const Token& peek() {
    skip_layout();
    return toks_[pos_];
  }
  const Token& peek_at(size_t ahead) {
    skip_layout();
    size_t k = std::min(pos_ + ahead, toks_.size() - 1);
    return toks_[k];
  }
  Token advance() {
    skip_layout();
    Token t = toks_[pos_];
    if (t.type != Tok::Eof) ++pos_;
    return t;
  }
  bool is_op(const Token& t, const char* text) const { return t.type == Tok::Op && t.text == text; }
  bool is_cmd(const Token& t, const char* name) const { return t.type == Tok::Command && t.text == name; }
  void expect_close(const char* closer) {
    const Token& t = peek();
    if (t.type != Tok::Close || t.text != closer) fail("expected '", closer, "'");
    advance();
  }

  void check_room() {
    if (tree_.nodes.size() >= limits_.max_nodes) fail("expression too large");
  }
  int32_t add(Node n) {
    check_room();
    return tree_.add(std::move(n));
  }
  int32_t leaf(Kind kind, std::string text) {
    check_room();
    return tree_.add_leaf(kind, std::move(text));
  }
  int32_t op(Kind kind, std::vector<int32_t> kids, std::string text = {}, uint8_t flags = 0) {
    check_room();
    return tree_.add_op(kind, std::move(kids), std::move(text), flags);
  }
  int32_t number(mpq_class value, bool decimal) {
    check_room();
    return tree_.add_number(std::move(value), decimal);
  }
  int32_t integer(long v) { return number(mpq_class(v), false); }

  // ---- separators and relations ----
  bool at_separator() {
    const Token& t = peek();
    if (t.type == Tok::Op && (t.text == "," || t.text == ";")) return true;
    if (t.type == Tok::Word && is_separator_word(t.text)) return true;
    if (t.type == Tok::Text) {
      std::string l = lower(t.text);
      return l == "and" || l == "or" || l == "," || l == "or," || l == ", and" || l == ", or";
    }
    return false;
  }
  bool at_list_end() {
    const Token& t = peek();
    return t.type == Tok::Eof || t.type == Tok::Close || t.type == Tok::EnvEnd ||
           (in_matrix_ && (t.type == Tok::RowSep || t.type == Tok::ColSep));
  }

  // Relation operator code of the next token, or 0.
  char relop() {
    const Token& t = peek();
    if (t.type == Tok::Op) {
      if (t.text == "=" || t.text == "==") return RelOp::kEq;
      if (t.text == "<") return RelOp::kLt;
      if (t.text == ">") return RelOp::kGt;
      if (t.text == "<=") return RelOp::kLe;
      if (t.text == ">=") return RelOp::kGe;
      if (t.text == "!=") return RelOp::kNe;
    }
    if (t.type == Tok::Command) {
      if (in_list(t.text, {"le", "leqq"})) return RelOp::kLe;
      if (in_list(t.text, {"ge", "geqq"})) return RelOp::kGe;
      if (in_list(t.text, {"ne", "neq"})) return RelOp::kNe;
      if (in_list(t.text, {"approx", "sim", "simeq", "thickapprox", "cong", "doteq"})) return RelOp::kApprox;
      if (in_list(t.text, {"equiv", "coloneqq", "eqqcolon"})) return RelOp::kEq;
      if (in_list(t.text, {"in", "subseteq", "subset"})) return RelOp::kIn;
    }
    return 0;
  }

  int32_t parse_list() {
    DepthGuard guard(*this);
    std::vector<int32_t> items;
    items.push_back(parse_relation());
    while (at_separator()) {
      while (at_separator()) advance();  // ", and"
      if (at_list_end()) break;           // trailing comma
      items.push_back(parse_relation());
    }
    if (items.size() == 1) return items[0];
    return op(Kind::List, std::move(items));
  }

  int32_t parse_relation() {
    std::vector<int32_t> operands{parse_ratio()};
    std::string ops;
    for (char code = relop(); code != 0; code = relop()) {
      advance();
      ops += code;
      operands.push_back(parse_ratio());
    }
    if (ops.empty()) return operands[0];
    return op(Kind::Relation, std::move(operands), ops);
  }

  // ---- ratios and clock times ----
  // A colon right after a number and right before one: "3:4", "1:2:3", "12:00", "3 : 4". Other colons
  // ("x: 5", "Answer: 5") stay parse errors, as before, so the extractor moves on to the next candidate.
  bool at_ratio_colon() {
    if (!is_op(peek(), ":") || pos_ == 0 || toks_[pos_ - 1].type != Tok::Number) return false;
    return peek_at(1).type == Tok::Number && pending_number_.empty();
  }

  // "am" / "pm" when the tokens [begin, end) hold that word ("PM", "\text{ p.m.}"), else "".
  std::string day_half(size_t begin, size_t end) const {
    for (size_t k = begin; k < end; ++k) {
      const Token& t = toks_[k];
      if (t.type != Tok::Word && t.type != Tok::Text) continue;
      std::string letters;
      for (char c : lower(t.text))
        if (c != '.' && c != ' ') letters += c;
      if (letters == "am" || letters == "pm") return letters;
    }
    return {};
  }

  // Parts are kept as written: a ratio is not its quotient (12:00 would be 12/0) and 3:4 is not 6:8. The
  // am/pm after a time would be dropped as a unit word by parse_product, so it is read off the tokens
  // of the last part and kept as the node's text ("1:00 pm" is not "1:00 am").
  int32_t parse_ratio() {
    std::vector<int32_t> parts{parse_union()};
    std::string half;
    while (at_ratio_colon()) {
      advance();
      size_t begin = pos_;
      parts.push_back(parse_union());
      half = day_half(begin, pos_);
    }
    if (parts.size() == 1) return parts[0];
    return op(Kind::Ratio, std::move(parts), half);
  }

  int32_t parse_union() {
    std::vector<int32_t> parts{parse_sum()};
    while (is_cmd(peek(), "cup")) {
      advance();
      int32_t part = parse_sum();
      const Node& pn = tree_.at(part);
      if (pn.kind == Kind::Union) {
        std::vector<int32_t> inner = pn.kids;
        parts.insert(parts.end(), inner.begin(), inner.end());
      } else {
        parts.push_back(part);
      }
    }
    if (parts.size() == 1) return parts[0];
    return op(Kind::Union, std::move(parts));
  }

  // ---- sums ----
  int32_t combine_sum(std::vector<int32_t>& terms) {
    return terms.size() == 1 ? terms[0] : op(Kind::Add, terms);
  }

  int32_t parse_sum() {
    DepthGuard guard(*this);
    std::vector<int32_t> terms;
    for (bool first = true;; first = false) {
      const Token& t = peek();
      if (is_op(t, "+")) {
        advance();
        terms.push_back(parse_product());
      } else if (is_op(t, "-")) {
        advance();
        terms.push_back(op(Kind::Neg, {parse_product()}));
      } else if (is_cmd(t, "pm") || is_cmd(t, "mp")) {
        // a ± b; a leading ± is 0 ± b.
        bool minus = t.text == "mp";
        advance();
        int32_t left = first ? integer(0) : combine_sum(terms);
        int32_t right = parse_product();
        terms.assign(1, op(Kind::PlusMinus, {left, minus ? op(Kind::Neg, {right}) : right}));
      } else if (first) {
        terms.push_back(parse_product());
      } else {
        break;
      }
    }
    return combine_sum(terms);
  }

  // ---- products ----
  static bool is_unit(const Tree& t, int32_t i) {
    const Node& n = t.at(i);
    if (n.kind == Kind::Text) return true;
    if ((n.kind == Kind::Pow || n.kind == Kind::Div) && !n.kids.empty()) return is_unit(t, n.kids[0]);
    if (n.kind == Kind::Mul) {
      for (int32_t k : n.kids)
        if (!is_unit(t, k)) return false;
      return true;
    }
    return false;
  }

  bool is_integer_literal(int32_t i) {
    const Node& n = tree_.at(i);
    return n.kind == Kind::Number && !(n.flags & kDecimal) && tree_.numbers[static_cast<size_t>(n.number)].get_den() == 1;
  }

  // A product of factors: units dropped when anything else is there, texts joined when not.
  int32_t make_product(std::vector<int32_t>& factors) {
    std::vector<int32_t> kept;
    for (int32_t f : factors)
      if (!is_unit(tree_, f)) kept.push_back(f);
    if (kept.empty()) {
      if (factors.size() == 1) return factors[0];
      std::string joined;
      for (int32_t f : factors) {
        const Node& n = tree_.at(f);
        if (n.kind != Kind::Text) continue;
        if (!joined.empty()) joined += ' ';
        joined += n.text;
      }
      return leaf(Kind::Text, joined);
    }
    if (kept.size() == 1) return kept[0];
    return op(Kind::Mul, std::move(kept));
  }

  bool starts_factor(const Token& t) {
    switch (t.type) {
      case Tok::Number:
      case Tok::Letter:
      case Tok::EnvBegin:
        return true;
      case Tok::Text:
        return !at_separator();
      case Tok::Word:
        return !is_separator_word(t.text) && !in_list(lower(t.text), {"percent", "percentage", "pct"});
      case Tok::Open:
        return true;
      case Tok::Op:
        return t.text == "|" && abs_depth_ == 0;
      case Tok::Command:
        return !in_list(t.text, {"cdot", "times", "div", "ast", "pm", "mp", "cup", "cap", "le", "ge", "ne",
                                 "approx", "sim", "simeq", "equiv", "in", "subset", "subseteq", "to",
                                 "rightarrow", "Rightarrow", "implies", "iff", "rfloor", "rceil", "rangle",
                                 "setminus", "mid", "quad", "qquad", "leqq", "geqq", "cong", "neq",
                                 "coloneqq", "colon", "backslash", "wedge", "vee", "land", "lor"});
      default:
        return false;
    }
  }

  // "2\frac{1}{2}" or "4 4/9" right after an integer: the fraction part of a mixed number.
  bool try_mixed_fraction(int32_t whole, int32_t& out) {
    if (!is_integer_literal(whole)) return false;
    const Token& t = peek();
    if (is_cmd(t, "frac")) {
      size_t save = pos_;
      size_t save_nodes = tree_.nodes.size();
      std::string_view save_number = pending_number_, save_word = pending_word_;
      advance();
      int32_t num = parse_arg(), den = parse_arg();
      if (is_integer_literal(num) && is_integer_literal(den)) {
        out = op(Kind::Add, {whole, op(Kind::Div, {num, den})});
        return true;
      }
      pos_ = save;  // not a pure fraction: reparse as an ordinary factor
      tree_.nodes.resize(save_nodes);
      pending_number_ = save_number;
      pending_word_ = save_word;
      return false;
    }
    if (t.type == Tok::Number && t.space_before && is_op(peek_at(1), "/") && peek_at(2).type == Tok::Number &&
        !peek_at(1).space_before && !peek_at(2).space_before) {
      int32_t num = parse_number_token(advance());
      advance();
      int32_t den = parse_number_token(advance());
      if (!is_integer_literal(num) || !is_integer_literal(den)) fail("malformed mixed number");
      out = op(Kind::Add, {whole, op(Kind::Div, {num, den})});
      return true;
    }
    return false;
  }

  int32_t parse_product() {
    std::vector<int32_t> factors{parse_unary()};
    bool unit_seen = false;
    for (;;) {
      if (!pending_number_.empty() || !pending_word_.empty()) {  // "\frac123", "\frac abc"
        factors.push_back(parse_power());
        continue;
      }
      const Token& t = peek();
      if (is_op(t, "*") || is_cmd(t, "cdot") || is_cmd(t, "times") || is_cmd(t, "ast")) {
        advance();
        factors.push_back(parse_unary());
      } else if (is_op(t, "/") || is_cmd(t, "div")) {
        advance();
        int32_t rhs = parse_unary();
        if (unit_seen) continue;  // "60 km/h": the divisor belongs to the unit
        int32_t lhs = make_product(factors);
        factors.assign(1, op(Kind::Div, {lhs, rhs}));
      } else if (starts_factor(t)) {
        int32_t mixed = -1;
        if (factors.size() == 1 && try_mixed_fraction(factors[0], mixed)) {
          factors[0] = mixed;
          continue;
        }
        if (t.type == Tok::Number && tree_.at(factors.back()).kind == Kind::Number && pending_number_.empty())
          fail("two numbers in a row");
        int32_t f = parse_unary_no_sign();
        if (is_unit(tree_, f)) unit_seen = true;
        factors.push_back(f);
      } else {
        break;
      }
    }
    return make_product(factors);
  }

  // ---- unary, power, postfix ----
  int32_t parse_unary() {
    DepthGuard guard(*this);
    const Token& t = peek();
    if (is_op(t, "-")) {
      advance();
      return op(Kind::Neg, {parse_unary()});
    }
    if (is_op(t, "+")) {
      advance();
      return parse_unary();
    }
    if (is_cmd(t, "pm") || is_cmd(t, "mp")) {
      bool minus = t.text == "mp";
      advance();
      int32_t x = parse_unary();
      return op(Kind::PlusMinus, {integer(0), minus ? op(Kind::Neg, {x}) : x});
    }
    return parse_power();
  }
  int32_t parse_unary_no_sign() { return parse_power(); }

  int32_t parse_power() {
    int32_t base = parse_postfix();
    if (is_op(peek(), "^")) {
      advance();
      int32_t exponent = parse_exponent();
      base = op(Kind::Pow, {base, exponent});
      base = parse_postfix_ops(base);
    }
    return base;
  }

  int32_t parse_exponent() {
    DepthGuard guard(*this);
    const Token& t = peek();
    if (t.type == Tok::Open && t.text == "{") {
      advance();
      int32_t e = parse_list();
      expect_close("}");
      return e;
    }
    if (is_op(t, "-")) {
      advance();
      return op(Kind::Neg, {parse_exponent()});
    }
    if (is_op(t, "+")) {
      advance();
      return parse_exponent();
    }
    int32_t atom = parse_postfix();
    if (is_op(peek(), "^")) {  // plain-text 2^3^2 = 2^(3^2)
      advance();
      atom = op(Kind::Pow, {atom, parse_exponent()});
    }
    return atom;
  }

  int32_t parse_postfix() { return parse_postfix_ops(parse_primary()); }

  int32_t parse_postfix_ops(int32_t node) {
    for (;;) {
      const Token& t = peek();
      if (is_op(t, "!")) {
        advance();
        node = op(Kind::Func, {node}, "fact");
      } else if (is_op(t, "%")) {
        advance();
        node = op(Kind::Percent, {node});
      } else if (t.type == Tok::Word && in_list(lower(t.text), {"percent", "percentage", "pct"})) {
        advance();
        node = op(Kind::Percent, {node});
      } else if (is_op(t, "'")) {
        advance();
        Node& n = tree_.nodes[static_cast<size_t>(node)];
        if (n.kind == Kind::Symbol || n.kind == Kind::Func) n.text += "'";
      } else if (is_op(t, "_")) {
        advance();
        node = apply_subscript(node, subscript_text());
      } else {
        return node;
      }
    }
  }

  // The raw text of a subscript: "_1", "_{10}", "_{n+1}", "_n".
  std::string subscript_text() {
    const Token& t = peek();
    if (t.type == Tok::Open && t.text == "{") {
      advance();
      std::string text;
      int depth = 1;
      while (depth > 0) {
        const Token& u = peek();
        if (u.type == Tok::Eof) fail("unterminated subscript");
        if (u.type == Tok::Open) ++depth;
        if (u.type == Tok::Close && --depth == 0) {
          advance();
          break;
        }
        if (u.type == Tok::Command) text += '\\';
        text += std::string(u.text);
        advance();
      }
      return text;
    }
    if (t.type == Tok::Eof) fail("empty subscript");
    Token u = advance();
    return std::string(u.type == Tok::Command ? std::string("\\") + std::string(u.text) : std::string(u.text));
  }

  int32_t apply_subscript(int32_t node, const std::string& sub) {
    Node& n = tree_.nodes[static_cast<size_t>(node)];
    if (n.kind == Kind::Symbol || (n.kind == Kind::Constant && (n.text == "e" || n.text == "i"))) {
      n.kind = Kind::Symbol;
      n.text += "_" + sub;
      return node;
    }
    if (n.kind == Kind::Number && !(n.flags & kDecimal)) {
      // A numeral in another base, "204_5": compared as written (digits and base).
      std::string digits = tree_.numbers[static_cast<size_t>(n.number)].get_str();
      return leaf(Kind::Text, digits + "_" + sub);
    }
    return node;  // (n)_k and other decorations: keep the base
  }

  // ---- primaries ----
  int32_t parse_number_token(const Token& t) {
    std::string clean;
    clean.reserve(t.text.size());
    for (char c : t.text)
      if (c != ',' && c != ' ') clean += c;
    mpq_class value;
    if (!parse_decimal(clean, value)) fail("malformed number '", t.text, "'");
    bool decimal = clean.find_first_of(".eE") != std::string::npos;
    return number(std::move(value), decimal);
  }

  // One argument of \frac / \sqrt / \binom: a braced group, or a single character / token.
  int32_t parse_arg() {
    DepthGuard guard(*this);
    if (!pending_number_.empty()) return take_pending_digit();
    const Token& t = peek();
    if (t.type == Tok::Open && t.text == "{") {
      advance();
      int32_t v = parse_list();
      expect_close("}");
      return v;
    }
    if (t.type == Tok::Number) {  // "\frac12": one digit per argument, the rest stays pending
      Token nt = advance();
      if (nt.text.size() > 1) {
        pending_number_ = nt.text.substr(1);
        return digit_node(nt.text[0]);
      }
      return parse_number_token(nt);
    }
    if (t.type == Tok::Word) {  // "\frac ab": one letter
      Token w = advance();
      int32_t sym = letter_node(w.text[0]);
      pending_word_ = w.text.substr(1);
      return sym;
    }
    return parse_primary();
  }
  int32_t digit_node(char c) {
    if (c < '0' || c > '9') fail("expected a digit");
    return integer(c - '0');
  }
  int32_t take_pending_digit() {
    char c = pending_number_[0];
    pending_number_.remove_prefix(1);
    return digit_node(c);
  }

  int32_t letter_node(char c) {
    if (c == 'e') return leaf(Kind::Constant, "e");
    if (c == 'i') return leaf(Kind::Constant, "i");
    return leaf(Kind::Symbol, std::string(1, c));
  }

  int32_t parse_primary() {
    DepthGuard guard(*this);
    if (!pending_number_.empty()) {  // digits left over from "\frac123"
      std::string_view rest = pending_number_;
      pending_number_ = {};
      mpq_class v;
      std::string digits(rest);
      if (!parse_decimal(digits, v)) fail("malformed number");
      return number(v, false);
    }
    if (!pending_word_.empty()) {
      std::string_view rest = pending_word_;
      pending_word_ = {};
      std::vector<int32_t> letters;
      for (char c : rest) letters.push_back(letter_node(c));
      return letters.size() == 1 ? letters[0] : op(Kind::Mul, letters);
    }
    Token t = advance();
    switch (t.type) {
      case Tok::Number:
        return parse_number_token(t);
      case Tok::Letter:
        return parse_letter(t);
      case Tok::Word:
        return parse_word(t);
      case Tok::Text:
        return leaf(Kind::Text, std::string(t.text));
      case Tok::Command:
        return parse_command(t);
      case Tok::Open:
        return parse_open(t);
      case Tok::EnvBegin:
        return parse_environment(t);
      case Tok::Op:
        if (t.text == "|") return parse_abs();
        fail("unexpected '", t.text, "'");
      default:
        fail("unexpected end of answer");
    }
  }

  int32_t parse_letter(const Token& t) {
    char c = t.text[0];
    if ((c == 'f' || c == 'g' || c == 'h') && peek().type == Tok::Open && peek().text == "(" &&
        !peek().space_before) {
      advance();
      std::vector<int32_t> args = parse_items_until(")");
      return op(Kind::Func, std::move(args), std::string(1, c));
    }
    return letter_node(c);
  }

  int32_t parse_word(const Token& t) {
    std::string w = lower(t.text);
    if (const char* f = function_name(w)) return parse_function(f);
    if (w == "pi") return leaf(Kind::Constant, "pi");
    if (w == "inf" || w == "infty" || w == "infinity" || w == "oo") return leaf(Kind::Constant, "inf");
    if (is_separator_word(w)) fail("dangling '", t.text, "'");
    bool ascii = static_cast<unsigned char>(t.text[0]) < 0x80;
    if (!ascii || t.text.size() >= 4 || is_short_word(t.text)) return leaf(Kind::Text, std::string(t.text));
    std::vector<int32_t> letters;  // "xy" = x*y
    for (char c : t.text) letters.push_back(letter_node(c));
    return op(Kind::Mul, std::move(letters));
  }

  int32_t parse_command(const Token& t) {
    std::string_view name = t.text;
    if (name == "frac") {
      int32_t num = parse_arg();
      int32_t den = parse_arg();
      return op(Kind::Div, {num, den});
    }
    if (name == "binom" || name == "choose") {
      int32_t n = parse_arg();
      int32_t k = parse_arg();
      return op(Kind::Func, {n, k}, "binom");
    }
    if (name == "sqrt") {
      int32_t degree = -1;
      if (peek().type == Tok::Open && peek().text == "[") {
        advance();
        degree = parse_sum();
        expect_close("]");
      }
      int32_t x = parse_arg();
      if (degree < 0) return op(Kind::Func, {x}, "sqrt");
      return op(Kind::Func, {degree, x}, "root");
    }
    if (const char* f = function_name(name)) return parse_function(f);
    if (name == "lg") return parse_function("log10");
    if (name == "pi") return leaf(Kind::Constant, "pi");
    if (name == "infty" || name == "infin") return leaf(Kind::Constant, "inf");
    if (name == "imath" || name == "jmath") return leaf(Kind::Constant, "i");
    if (name == "emptyset" || name == "varnothing") return op(Kind::Set, {});
    if (is_greek(name)) return leaf(Kind::Symbol, std::string(name));
    if (is_style_command(name)) {
      if (name == "textcolor" || name == "color") {  // \textcolor{red}{x}: drop the colour
        if (peek().type == Tok::Open && peek().text == "{") skip_group();
      }
      return parse_arg();
    }
    if (name == "mathbb") {
      int32_t inner = parse_arg();
      const Node& n = tree_.at(inner);
      if (n.kind == Kind::Symbol && n.text == "R")
        return op(Kind::Interval, {op(Kind::Neg, {leaf(Kind::Constant, "inf")}), leaf(Kind::Constant, "inf")}, {},
                  kLeftOpen | kRightOpen);
      return leaf(Kind::Text, "mathbb " + (n.kind == Kind::Symbol ? n.text : std::string("?")));
    }
    if (name == "lfloor" || name == "lceil") {
      int32_t x = parse_sum();
      const Token& c = peek();
      if (!is_cmd(c, name == "lfloor" ? "rfloor" : "rceil")) fail("unclosed ", name);
      advance();
      return op(Kind::Func, {x}, name == "lfloor" ? "floor" : "ceil");
    }
    if (name == "langle") {
      std::vector<int32_t> items{parse_relation()};
      while (is_op(peek(), ",")) {
        advance();
        items.push_back(parse_relation());
      }
      if (!is_cmd(peek(), "rangle")) fail("unclosed \\langle");
      advance();
      return op(Kind::Tuple, std::move(items));
    }
    if (name == "angle" || name == "triangle" || name == "infty") return leaf(Kind::Symbol, "\\" + std::string(name));
    if (name == "cdot" || name == "times" || name == "div" || name == "cup" || name == "pm")
      fail("operator \\", name, " without an operand");
    if (name == "rfloor" || name == "rceil" || name == "rangle") fail("unbalanced \\", name);
    // Unknown commands (\heartsuit, \partial, ...) are opaque symbols: equal only to themselves.
    return leaf(Kind::Symbol, "\\" + std::string(name));
  }

  void skip_group() {
    int depth = 0;
    do {
      const Token& u = peek();
      if (u.type == Tok::Eof) fail("unterminated group");
      if (u.type == Tok::Open) ++depth;
      if (u.type == Tok::Close) --depth;
      advance();
    } while (depth > 0);
  }

  // \sin x, \sin(x), \sin^2 x, \sin^{-1} x, \log_2 8, \log(x), \gcd(a, b).
  int32_t parse_function(const char* fname) {
    std::string name = fname;
    int32_t base = -1;
    if (name == "log" && is_op(peek(), "_")) {
      advance();
      base = parse_arg();
    }
    if (name == "log10") {
      name = "log";
      base = integer(10);
    }
    int32_t power = -1;
    if (is_op(peek(), "^")) {
      advance();
      power = parse_exponent();
      const Node& p = tree_.at(power);
      if (p.kind == Kind::Neg && is_integer_literal(p.kids[0]) &&
          tree_.numbers[static_cast<size_t>(tree_.at(p.kids[0]).number)] == 1) {
        static const std::pair<const char*, const char*> kInverse[] = {
            {"sin", "asin"}, {"cos", "acos"}, {"tan", "atan"}};
        for (const auto& [f, inv] : kInverse)
          if (name == f) {
            name = inv;
            power = -1;
          }
      }
    }
    std::vector<int32_t> args;
    const Token& t = peek();
    if (t.type == Tok::Open && t.text == "(") {
      advance();
      args = parse_items_until(")");
    } else if (t.type == Tok::Open && (t.text == "{" || t.text == "[")) {
      advance();
      args = parse_items_until(t.text == "{" ? "}" : "]");
    } else {
      // No brackets: the argument is the following run of simple factors ("\sin 2x", "\log 8").
      std::vector<int32_t> factors{parse_power()};
      while (peek().type == Tok::Number || peek().type == Tok::Letter ||
             (peek().type == Tok::Command && is_greek(peek().text))) {
        factors.push_back(parse_power());
      }
      args.push_back(factors.size() == 1 ? factors[0] : op(Kind::Mul, factors));
    }
    if (args.empty()) fail("function without argument");
    if (base >= 0) {
      if (args.size() != 1) fail("log with several arguments");
      args.insert(args.begin(), base);
    }
    int32_t call = op(Kind::Func, std::move(args), name);
    if (power >= 0) call = op(Kind::Pow, {call, power});
    return call;
  }

  std::vector<int32_t> parse_items_until(const char* closer) {
    std::vector<int32_t> items;
    if (peek().type == Tok::Close && peek().text == closer) {
      advance();
      return items;
    }
    items.push_back(parse_relation());
    while (is_op(peek(), ",") || is_op(peek(), ";")) {
      advance();
      items.push_back(parse_relation());
    }
    expect_close(closer);
    return items;
  }

  int32_t parse_abs() {
    ++abs_depth_;
    int32_t x = parse_sum();
    --abs_depth_;
    if (!is_op(peek(), "|")) fail("unclosed |");
    advance();
    return op(Kind::Func, {x}, "abs");
  }

  int32_t parse_open(const Token& t) {
    if (t.text == "{") {  // LaTeX group (a set when it holds a list)
      if (peek().type == Tok::Close && peek().text == "}") {
        advance();
        return op(Kind::Set, {});
      }
      int32_t inner = parse_list();
      expect_close("}");
      if (tree_.at(inner).kind == Kind::List) tree_.nodes[static_cast<size_t>(inner)].kind = Kind::Set;
      return inner;
    }
    if (t.text == "\\{") {
      std::vector<int32_t> items;
      if (!(peek().type == Tok::Close && peek().text == "\\}")) {
        int32_t inner = parse_list();
        const Node& n = tree_.at(inner);
        items = n.kind == Kind::List ? n.kids : std::vector<int32_t>{inner};
      }
      expect_close("\\}");
      return op(Kind::Set, std::move(items));
    }
    // ( or [ : a group, a tuple or an interval, decided by the closer and the item count.
    char opener = t.text[0];
    std::vector<int32_t> items;
    if (!(peek().type == Tok::Close && (peek().text == ")" || peek().text == "]"))) {
      items.push_back(parse_relation());
      while (is_op(peek(), ",") || is_op(peek(), ";")) {
        advance();
        items.push_back(parse_relation());
      }
    }
    const Token& c = peek();
    if (c.type != Tok::Close || (c.text != ")" && c.text != "]")) fail("unbalanced '", t.text, "'");
    char closer = c.text[0];
    advance();
    if (items.size() == 1) {
      if ((opener == '(') != (closer == ')')) fail("mismatched brackets around one item");
      return items[0];
    }
    if (items.size() == 2 && !(opener == '(' && closer == ')')) {
      uint8_t flags = static_cast<uint8_t>((opener == '(' ? kLeftOpen : 0) | (closer == ')' ? kRightOpen : 0));
      return op(Kind::Interval, std::move(items), {}, flags);
    }
    return op(Kind::Tuple, std::move(items), {}, opener == '(' && closer == ')' ? kParen : 0);
  }

  int32_t parse_environment(const Token& t) {
    static const char* const kMatrices[] = {"pmatrix", "bmatrix", "Bmatrix", "vmatrix", "Vmatrix",
                                            "matrix", "smallmatrix", "array"};
    bool matrix = false;
    for (const char* m : kMatrices)
      if (t.text == m) matrix = true;
    if (!matrix) fail("unsupported environment ", t.text);
    bool saved = in_matrix_;
    in_matrix_ = true;
    std::vector<std::vector<int32_t>> rows(1);
    for (;;) {
      const Token& u = peek();
      if (u.type == Tok::EnvEnd) {
        advance();
        break;
      }
      if (u.type == Tok::Eof) fail("unterminated matrix");
      if (u.type == Tok::RowSep) {
        advance();
        rows.emplace_back();
        continue;
      }
      if (u.type == Tok::ColSep) {
        advance();
        if (rows.back().empty()) fail("empty matrix cell");
        continue;
      }
      rows.back().push_back(parse_relation());
    }
    in_matrix_ = saved;
    while (!rows.empty() && rows.back().empty()) rows.pop_back();
    if (rows.empty()) fail("empty matrix");
    size_t cols = rows[0].size();
    std::vector<int32_t> cells;
    for (const auto& r : rows) {
      if (r.size() != cols) fail("ragged matrix");
      cells.insert(cells.end(), r.begin(), r.end());
    }
    Node n;
    n.kind = Kind::Matrix;
    n.kids = std::move(cells);
    n.cols = static_cast<int32_t>(cols);
    return add(std::move(n));
  }
};

}  // namespace

bool parse_answer(std::string_view normalized, Tree& out, std::string* error, const ParseLimits& limits) {
  out = Tree();
  if (normalized.size() > limits.max_chars) {
    if (error) *error = "answer too long to parse";
    return false;
  }
  std::vector<Token> tokens;
  if (!tokenize(normalized, limits.max_tokens, tokens)) {
    if (error) *error = "too many tokens or an unterminated group";
    return false;
  }
  if (tokens.size() == 1) {
    if (error) *error = "empty answer";
    return false;
  }
  try {
    Parser parser(tokens, out, limits);
    out.root = parser.parse();
    return true;
  } catch (const ParseFailure& f) {
    if (error) *error = f.what;
    out = Tree();
    return false;
  }
}

}  // namespace r1::rewards::math
