// See math_exact.h. All arithmetic is mpq_class; the only subtle part is keeping every step bounded:
// sizes are checked before a power or factorial is computed, never after.
#include "rewards/math/math_exact.h"

#include <cstdlib>
#include <string>

namespace r1::rewards::math {
namespace {

size_t bit_size(const mpz_class& z) { return mpz_sizeinbase(z.get_mpz_t(), 2); }

bool fits(const mpq_class& q, const ExactLimits& limits) {
  return bit_size(q.get_num()) <= limits.max_bits && bit_size(q.get_den()) <= limits.max_bits;
}

bool is_integer(const mpq_class& q) { return q.get_den() == 1; }

bool small_long(const mpz_class& z, long bound, long& out) {
  if (!z.fits_slong_p()) return false;
  long v = z.get_si();
  if (v > bound || v < -bound) return false;
  out = v;
  return true;
}

bool factorial(const mpq_class& n, const ExactLimits& limits, mpq_class& out) {
  long k = 0;
  if (!is_integer(n) || !small_long(n.get_num(), limits.max_factorial, k) || k < 0) return false;
  mpz_class f;
  mpz_fac_ui(f.get_mpz_t(), static_cast<unsigned long>(k));
  out = mpq_class(f);
  return true;
}

bool binomial(const mpq_class& n, const mpq_class& k, const ExactLimits& limits, mpq_class& out) {
  long nn = 0, kk = 0;
  if (!is_integer(n) || !is_integer(k)) return false;
  if (!small_long(n.get_num(), limits.max_factorial, nn) || !small_long(k.get_num(), limits.max_factorial, kk))
    return false;
  if (nn < 0) return false;
  if (kk < 0 || kk > nn) {
    out = 0;
    return true;
  }
  mpz_class b;
  mpz_bin_uiui(b.get_mpz_t(), static_cast<unsigned long>(nn), static_cast<unsigned long>(kk));
  out = mpq_class(b);
  return true;
}

struct Evaluator {
  const Tree& tree;
  const EvalOptions& options;
  Budget& budget;

  bool eval(int32_t i, mpq_class& out) {
    if (!budget.tick()) return false;
    const Node& n = tree.at(i);
    switch (n.kind) {
      case Kind::Number:
        out = tree.numbers[static_cast<size_t>(n.number)];
        return true;
      case Kind::Neg:
        if (!eval(n.kids[0], out)) return false;
        out = -out;
        return true;
      case Kind::Add: {
        mpq_class sum = 0, term;
        for (int32_t k : n.kids) {
          if (!eval(k, term)) return false;
          sum += term;
          if (!fits(sum, options.limits)) return false;
        }
        out = sum;
        return true;
      }
      case Kind::Mul: {
        mpq_class prod = 1, factor;
        for (int32_t k : n.kids) {
          if (!eval(k, factor)) return false;
          prod *= factor;
          if (!fits(prod, options.limits)) return false;
        }
        out = prod;
        return true;
      }
      case Kind::Div: {
        mpq_class num, den;
        if (!eval(n.kids[0], num) || !eval(n.kids[1], den) || sgn(den) == 0) return false;
        out = num / den;
        return fits(out, options.limits);
      }
      case Kind::Pow: {
        mpq_class base, exponent;
        if (!eval(n.kids[0], base) || !eval(n.kids[1], exponent)) return false;
        return exact_pow(base, exponent, out, options.limits);
      }
      case Kind::Percent:
        if (!eval(n.kids[0], out)) return false;
        if (options.percent_divides) out /= 100;
        return true;
      case Kind::Func:
        return eval_func(n, out);
      default:
        return false;  // symbols, constants, structures, text
    }
  }

  bool eval_func(const Node& n, mpq_class& out) {
    const std::string& f = n.text;
    std::vector<mpq_class> args(n.kids.size());
    for (size_t k = 0; k < n.kids.size(); ++k)
      if (!eval(n.kids[k], args[k])) return false;
    if (f == "sqrt" && args.size() == 1) return exact_root(args[0], 2, out);
    if (f == "root" && args.size() == 2) {
      long deg = 0;
      if (!is_integer(args[0]) || !small_long(args[0].get_num(), 64, deg) || deg < 1) return false;
      return exact_root(args[1], static_cast<unsigned long>(deg), out);
    }
    if (f == "abs" && args.size() == 1) {
      out = abs(args[0]);
      return true;
    }
    if ((f == "floor" || f == "ceil") && args.size() == 1) {
      mpz_class z;
      if (f == "floor") {
        mpz_fdiv_q(z.get_mpz_t(), args[0].get_num_mpz_t(), args[0].get_den_mpz_t());
      } else {
        mpz_cdiv_q(z.get_mpz_t(), args[0].get_num_mpz_t(), args[0].get_den_mpz_t());
      }
      out = mpq_class(z);
      return true;
    }
    if (f == "fact" && args.size() == 1) return factorial(args[0], options.limits, out);
    if (f == "binom" && args.size() == 2) return binomial(args[0], args[1], options.limits, out);
    if ((f == "gcd" || f == "lcm") && !args.empty()) {
      mpz_class acc;
      for (size_t k = 0; k < args.size(); ++k) {
        if (!is_integer(args[k])) return false;
        if (k == 0) {
          acc = abs(args[k].get_num());
        } else if (f == "gcd") {
          mpz_gcd(acc.get_mpz_t(), acc.get_mpz_t(), args[k].get_num_mpz_t());
        } else {
          mpz_lcm(acc.get_mpz_t(), acc.get_mpz_t(), args[k].get_num_mpz_t());
        }
      }
      out = mpq_class(acc);
      return true;
    }
    if ((f == "max" || f == "min") && !args.empty()) {
      out = args[0];
      for (const mpq_class& a : args) out = (f == "max") ? (a > out ? a : out) : (a < out ? a : out);
      return true;
    }
    return false;
  }
};

}  // namespace

bool parse_decimal(std::string_view text, mpq_class& out) {
  mpz_class mantissa = 0;
  long scale = 0;  // number of digits after the point
  size_t i = 0;
  bool any_digit = false, point = false;
  std::string digits;
  digits.reserve(text.size());
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits += c;
      any_digit = true;
      if (point) ++scale;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      break;
    }
  }
  if (!any_digit) return false;
  long exponent = 0;
  if (i < text.size()) {
    if (text[i] != 'e' && text[i] != 'E') return false;
    ++i;
    bool negative = false;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
    if (i >= text.size()) return false;
    for (; i < text.size(); ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      exponent = exponent * 10 + (text[i] - '0');
      if (exponent > 10000) return false;
    }
    if (negative) exponent = -exponent;
  }
  if (mantissa.set_str(digits, 10) != 0) return false;
  long shift = exponent - scale;
  mpz_class pow10;
  mpz_ui_pow_ui(pow10.get_mpz_t(), 10, static_cast<unsigned long>(std::labs(shift)));
  if (shift >= 0) {
    out = mpq_class(mantissa * pow10);
  } else {
    out = mpq_class(mantissa, pow10);
    out.canonicalize();
  }
  return true;
}

bool exact_root(const mpq_class& x, unsigned long n, mpq_class& out) {
  if (n == 0) return false;
  if (n == 1) {
    out = x;
    return true;
  }
  bool negative = sgn(x) < 0;
  if (negative && n % 2 == 0) return false;
  mpz_class num = abs(x.get_num()), den = x.get_den();
  mpz_class rn, rd;
  if (mpz_root(rn.get_mpz_t(), num.get_mpz_t(), n) == 0) return false;
  if (mpz_root(rd.get_mpz_t(), den.get_mpz_t(), n) == 0) return false;
  out = mpq_class(negative ? mpz_class(-rn) : rn, rd);
  out.canonicalize();
  return true;
}

bool exact_pow(const mpq_class& base, const mpq_class& exponent, mpq_class& out, const ExactLimits& limits) {
  if (!is_integer(exponent)) {
    // p/q: exact only when the base is a perfect q-th power.
    long q = 0;
    if (!small_long(exponent.get_den(), 64, q)) return false;
    mpq_class root;
    if (!exact_root(base, static_cast<unsigned long>(q), root)) return false;
    return exact_pow(root, mpq_class(exponent.get_num()), out, limits);
  }
  const mpz_class& e = exponent.get_num();
  if (sgn(base) == 0) {
    if (sgn(e) < 0) return false;
    out = sgn(e) == 0 ? 1 : 0;
    return true;
  }
  if (base == 1 || sgn(e) == 0) {
    out = 1;
    return true;
  }
  if (base == -1) {
    out = mpz_odd_p(e.get_mpz_t()) ? -1 : 1;
    return true;
  }
  long ev = 0;
  if (!small_long(e, 1000000, ev)) return false;
  unsigned long magnitude = static_cast<unsigned long>(std::labs(ev));
  size_t num_bits = bit_size(base.get_num()), den_bits = bit_size(base.get_den());
  if ((num_bits > 1 && num_bits * magnitude > limits.max_bits + magnitude) ||
      (den_bits > 1 && den_bits * magnitude > limits.max_bits + magnitude))
    return false;
  mpz_class num, den;
  mpz_pow_ui(num.get_mpz_t(), base.get_num_mpz_t(), magnitude);
  mpz_pow_ui(den.get_mpz_t(), base.get_den_mpz_t(), magnitude);
  out = ev > 0 ? mpq_class(num, den) : mpq_class(den, num);
  out.canonicalize();
  return true;
}

mpz_class round_scaled(const mpq_class& x, int places) {
  mpz_class pow10;
  mpz_ui_pow_ui(pow10.get_mpz_t(), 10, static_cast<unsigned long>(places));
  mpq_class scaled = abs(x) * pow10 + mpq_class(1, 2);
  mpz_class r;
  mpz_fdiv_q(r.get_mpz_t(), scaled.get_num_mpz_t(), scaled.get_den_mpz_t());
  return sgn(x) < 0 ? mpz_class(-r) : r;
}

bool eval_exact(const Tree& tree, int32_t node, const EvalOptions& options, Budget& budget, mpq_class& out) {
  Evaluator ev{tree, options, budget};
  return ev.eval(node, out);
}

}  // namespace r1::rewards::math
