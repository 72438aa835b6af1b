// See math_numeric.h.
#include "rewards/math/math_numeric.h"

#include <cmath>
#include <cstdint>
#include <numeric>
#include <string>
#include <vector>

#include "common/seed.h"

namespace r1::rewards::math {
namespace {

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

double unit_fraction(uint64_t h) { return static_cast<double>(h >> 11) * (1.0 / 9007199254740992.0); }

bool is_real(const Complex& z) { return std::abs(z.imag()) <= 1e-12 * std::max(1.0, std::abs(z.real())); }

// Integer value of z when it is (nearly) a real integer within int64 range.
bool as_integer(const Complex& z, int64_t& out) {
  if (!is_real(z) || !std::isfinite(z.real()) || std::abs(z.real()) > 9e15) return false;
  double r = std::round(z.real());
  if (std::abs(r - z.real()) > 1e-9 * std::max(1.0, std::abs(r))) return false;
  out = static_cast<int64_t>(r);
  return true;
}

// A real value with a signed-zero imaginary part (-(1+0i) = -1-0i) would put log/sqrt/pow on the
// other side of the branch cut: sqrt(-1) must be +i.
Complex clean(const Complex& z) { return is_real(z) ? Complex(z.real(), 0.0) : z; }

Complex power(const Complex& base_in, const Complex& exponent) {
  Complex base = clean(base_in);
  int64_t e = 0;
  if (is_real(base) && as_integer(exponent, e)) return Complex(std::pow(base.real(), static_cast<double>(e)), 0.0);
  if (is_real(base) && is_real(exponent) && base.real() >= 0) return Complex(std::pow(base.real(), exponent.real()), 0.0);
  if (base == Complex(0.0, 0.0)) return Complex(0.0, 0.0);
  return std::pow(base, exponent);
}

Complex nth_root(const Complex& x_in, double n) {
  Complex x = clean(x_in);
  // Odd roots of negative reals are real (the reading everyone means by \sqrt[3]{-8} = -2).
  int64_t k = 0;
  if (is_real(x) && x.real() < 0 && as_integer(Complex(n, 0), k) && (k % 2 != 0))
    return Complex(-std::pow(-x.real(), 1.0 / n), 0.0);
  return power(x, Complex(1.0 / n, 0.0));
}

Complex unknown_function(std::string_view name, const std::vector<Complex>& args) {
  uint64_t h = fnv1a(name);
  Complex acc(0.3 + unit_fraction(h), 0.0);
  for (size_t k = 0; k < args.size(); ++k) {
    uint64_t hk = h * 6364136223846793005ull + 1442695040888963407ull * (k + 1);
    double a = 0.5 + unit_fraction(hk), b = unit_fraction(hk * 31 + 7) * 3.0;
    acc += std::sin(args[k] * a + b) * (1.0 + 0.5 * static_cast<double>(k));
  }
  return acc;
}

struct NumericEvaluator {
  const Tree& tree;
  const EvalOptions& options;
  int trial;
  Budget& budget;

  bool eval(int32_t i, Complex& out) {
    if (!budget.tick()) return false;
    const Node& n = tree.at(i);
    switch (n.kind) {
      case Kind::Number:
        out = Complex(tree.numbers[static_cast<size_t>(n.number)].get_d(), 0.0);
        return true;
      case Kind::Symbol:
        out = Complex(symbol_value(n.text, trial), 0.0);
        return true;
      case Kind::Constant:
        if (n.text == "pi") out = Complex(M_PI, 0.0);
        else if (n.text == "e") out = Complex(M_E, 0.0);
        else if (n.text == "i") out = Complex(0.0, 1.0);
        else out = Complex(INFINITY, 0.0);
        return true;
      case Kind::Neg:
        if (!eval(n.kids[0], out)) return false;
        out = -out;
        return true;
      case Kind::Add: {
        Complex sum(0.0, 0.0), term;
        for (int32_t k : n.kids) {
          if (!eval(k, term)) return false;
          sum += term;
        }
        out = sum;
        return true;
      }
      case Kind::Mul: {
        Complex prod(1.0, 0.0), factor;
        for (int32_t k : n.kids) {
          if (!eval(k, factor)) return false;
          prod = (is_real(prod) && is_real(factor)) ? Complex(prod.real() * factor.real(), 0.0) : prod * factor;
        }
        out = prod;
        return true;
      }
      case Kind::Div: {
        Complex a, b;
        if (!eval(n.kids[0], a) || !eval(n.kids[1], b)) return false;
        out = (is_real(a) && is_real(b)) ? Complex(a.real() / b.real(), 0.0) : a / b;
        return true;
      }
      case Kind::Pow: {
        Complex a, b;
        if (!eval(n.kids[0], a) || !eval(n.kids[1], b)) return false;
        out = power(a, b);
        return true;
      }
      case Kind::Percent:
        if (!eval(n.kids[0], out)) return false;
        if (options.percent_divides) out /= 100.0;
        return true;
      case Kind::Func:
        return eval_func(n, out);
      default:
        return false;
    }
  }

  bool eval_func(const Node& n, Complex& out) {
    std::vector<Complex> a(n.kids.size());
    for (size_t k = 0; k < n.kids.size(); ++k)
      if (!eval(n.kids[k], a[k])) return false;
    const std::string& f = n.text;
    if (a.size() == 1) {
      const Complex x = clean(a[0]);
      if (f == "sqrt") return (out = nth_root(x, 2.0)), true;
      if (f == "sin") return (out = std::sin(x)), true;
      if (f == "cos") return (out = std::cos(x)), true;
      if (f == "tan") return (out = std::tan(x)), true;
      if (f == "cot") return (out = 1.0 / std::tan(x)), true;
      if (f == "sec") return (out = 1.0 / std::cos(x)), true;
      if (f == "csc") return (out = 1.0 / std::sin(x)), true;
      if (f == "asin") return (out = std::asin(x)), true;
      if (f == "acos") return (out = std::acos(x)), true;
      if (f == "atan") return (out = std::atan(x)), true;
      if (f == "sinh") return (out = std::sinh(x)), true;
      if (f == "cosh") return (out = std::cosh(x)), true;
      if (f == "tanh") return (out = std::tanh(x)), true;
      if (f == "log") return (out = std::log(x)), true;
      if (f == "exp") return (out = std::exp(x)), true;
      if (f == "abs") return (out = Complex(std::abs(x), 0.0)), true;
      if (f == "floor") return (out = Complex(std::floor(x.real()), 0.0)), is_real(x);
      if (f == "ceil") return (out = Complex(std::ceil(x.real()), 0.0)), is_real(x);
      if (f == "fact") return (out = Complex(std::tgamma(x.real() + 1.0), 0.0)), is_real(x);
    }
    if (a.size() == 2) {
      if (f == "root") return (out = nth_root(a[1], a[0].real())), is_real(a[0]);
      if (f == "log") return (out = std::log(a[1]) / std::log(a[0])), true;
      if (f == "binom" && is_real(a[0]) && is_real(a[1])) {
        double nn = a[0].real(), kk = a[1].real();
        out = Complex(std::exp(std::lgamma(nn + 1) - std::lgamma(kk + 1) - std::lgamma(nn - kk + 1)), 0.0);
        return true;
      }
    }
    if ((f == "gcd" || f == "lcm") && !a.empty()) {
      int64_t acc = 0, v = 0;
      for (size_t k = 0; k < a.size(); ++k) {
        if (!as_integer(a[k], v)) return false;
        if (k == 0) acc = std::llabs(v);
        else acc = (f == "gcd") ? std::gcd(acc, v) : std::lcm(acc, v);
      }
      out = Complex(static_cast<double>(acc), 0.0);
      return true;
    }
    if ((f == "max" || f == "min") && !a.empty()) {
      out = a[0];
      for (const Complex& z : a)
        if ((f == "max") ? z.real() > out.real() : z.real() < out.real()) out = z;
      return true;
    }
    out = unknown_function(f, a);
    return true;
  }
};

}  // namespace

double symbol_value(std::string_view name, int trial) {
  // splitmix64 of (name hash, trial): independent values per symbol and per trial.
  const uint64_t z = splitmix64(fnv1a(name) + kGoldenGamma * static_cast<uint64_t>(trial));
  return 0.35 + 1.9 * unit_fraction(z);
}

bool eval_numeric(const Tree& tree, int32_t node, const EvalOptions& options, int trial, Budget& budget,
                  Complex& out) {
  NumericEvaluator ev{tree, options, trial, budget};
  return ev.eval(node, out);
}

}  // namespace r1::rewards::math
