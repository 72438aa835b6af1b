// The "countdown" reward (TinyZero's task): the equation in the completion's last <answer>...</answer>
// must use exactly the given numbers, each once, with + - * / and brackets, and evaluate exactly to the
// target.
//
// Evaluation is exact (GMP rationals), so 6 / (1 - 3/4) = 24 is right and no float tolerance is needed
// (TinyZero compares |result - target| < 1e-5 with Python floats). Division by zero, powers, other
// numbers, decimals or any other character make the equation invalid. "expr = target" is accepted (the
// side with operators is the expression; the other side, if a number, must equal the target). Row fields:
// `numbers` (an array of integers or a string "30,100,93") and `target` (a number or numeric string);
// both keys are configurable (the shared countdown files use "input" and "output"). Scores follow
// TinyZero: score for a correct equation, format_score for an equation that is present but wrong.
#include <gmpxx.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/error.h"
#include "rewards/builtin.h"
#include "rewards/options.h"

namespace r1::rewards {
namespace {

struct CountdownConfig {
  std::string numbers_key = "numbers", target_key = "target";
  double score = 1.0, format_score = 0.1;
  bool answer_tags = true;

  template <class V>
  void visit(V& v) {
    v("numbers_key", numbers_key, "row field with the numbers (array or \"30,100,93\")");
    v("target_key", target_key, "row field with the target");
    v("score", score, "score of a correct equation");
    v("format_score", format_score, "score of an equation that is present but wrong or invalid");
    v("answer_tags", answer_tags, "read the last <answer>...</answer> (false: the last line)");
  }
  void validate(const std::string&) const {}
};

// Recursive-descent evaluator over + - * / ( ) and non-negative integer literals.
class Equation {
 public:
  explicit Equation(std::string text) : s_(std::move(text)) {}

  bool evaluate(mpq_class& out, std::vector<mpz_class>& numbers) {
    i_ = 0;
    numbers_.clear();
    if (!expr(out, 0)) return false;
    skip();
    if (i_ != s_.size()) return false;
    numbers = numbers_;
    return true;
  }

 private:
  void skip() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n')) ++i_;
  }
  bool peek(char c) {
    skip();
    return i_ < s_.size() && s_[i_] == c;
  }
  bool expr(mpq_class& v, int depth) {
    if (depth > 64 || !term(v, depth)) return false;
    for (;;) {
      if (peek('+') || peek('-')) {
        char op = s_[i_++];
        mpq_class rhs;
        if (!term(rhs, depth)) return false;
        v = op == '+' ? mpq_class(v + rhs) : mpq_class(v - rhs);
      } else {
        return true;
      }
    }
  }
  bool term(mpq_class& v, int depth) {
    if (!factor(v, depth)) return false;
    for (;;) {
      if (peek('*') || peek('/')) {
        char op = s_[i_++];
        mpq_class rhs;
        if (!factor(rhs, depth)) return false;
        if (op == '/' && sgn(rhs) == 0) return false;
        v = op == '*' ? mpq_class(v * rhs) : mpq_class(v / rhs);
      } else {
        return true;
      }
    }
  }
  bool factor(mpq_class& v, int depth) {
    skip();
    if (i_ >= s_.size()) return false;
    if (s_[i_] == '-') {
      ++i_;
      if (!factor(v, depth + 1)) return false;
      v = -v;
      return true;
    }
    if (s_[i_] == '(') {
      ++i_;
      if (!expr(v, depth + 1) || !peek(')')) return false;
      ++i_;
      return true;
    }
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    if (i_ == start || i_ - start > 18) return false;
    mpz_class n(s_.substr(start, i_ - start), 10);
    numbers_.push_back(n);
    v = mpq_class(n);
    return true;
  }

  std::string s_;
  size_t i_ = 0;
  std::vector<mpz_class> numbers_;
};

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
  return s;
}

std::string normalize_equation(std::string s) {
  for (const auto& [from, to] : std::vector<std::pair<std::string, std::string>>{
           {"\\times", "*"}, {"\\cdot", "*"}, {"\xC3\x97", "*"}, {"\xC2\xB7", "*"}, {"\\div", "/"},
           {"\xC3\xB7", "/"}, {"\xE2\x88\x92", "-"}, {"\\left", ""}, {"\\right", ""}, {"$", ""},
           {"\\(", ""}, {"\\)", ""}, {"x", "*"}})
    s = replace_all(s, from, to);
  return s;
}

mpz_class parse_integer(const std::string& text, const std::string& what) {
  std::string t;
  for (char c : text)
    if (c != ' ') t += c;
  mpq_class q;
  try {
    q = mpq_class(t, 10);
    q.canonicalize();
  } catch (const std::invalid_argument&) {
    double d = 0;
    size_t used = 0;
    try {
      d = std::stod(t, &used);
    } catch (...) {
      used = 0;
    }
    if (used != t.size() || t.empty() || d != static_cast<double>(static_cast<long long>(d)))
      fail("reward 'countdown': ", what, " '", text, "' is not an integer");
    return mpz_class(static_cast<long>(d));
  }
  if (q.get_den() != 1) fail("reward 'countdown': ", what, " '", text, "' is not an integer");
  return q.get_num();
}

class CountdownReward : public Reward {
 public:
  explicit CountdownReward(CountdownConfig c) : c_(std::move(c)) {}
  std::string name() const override { return "countdown"; }

  Score score(const Sample& sample) const override {
    std::vector<mpz_class> given = numbers(sample);
    mpz_class target = parse_integer(row_text(sample, c_.target_key, "countdown"), "target");
    Score s;
    s.components = {{"valid", 0.0}, {"correct", 0.0}};
    std::string answer;
    if (!find_answer(sample.completion, answer)) {
      s.reason = "no <answer> block";
      return s;
    }
    std::string expr = normalize_equation(answer), other;
    size_t eq = expr.find('=');
    if (eq != std::string::npos) {
      std::string lhs = expr.substr(0, eq), rhs = expr.substr(eq + 1);
      bool lhs_ops = lhs.find_first_of("+-*/") != std::string::npos;
      expr = lhs_ops ? lhs : rhs;
      other = lhs_ops ? rhs : lhs;
    }
    mpq_class value;
    std::vector<mpz_class> used;
    if (!Equation(expr).evaluate(value, used)) {
      s.value = c_.format_score;
      s.reason = "not a valid equation: " + answer.substr(0, 80);
      return s;
    }
    std::vector<mpz_class> a = used, b = given;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b) {
      s.value = c_.format_score;
      s.reason = "does not use each given number exactly once";
      return s;
    }
    s.components[0].second = 1.0;
    bool other_ok = true;
    if (eq != std::string::npos) {
      mpq_class rhs_value;
      std::vector<mpz_class> rhs_numbers;
      other_ok = Equation(other).evaluate(rhs_value, rhs_numbers) && rhs_value == mpq_class(target);
    }
    if (value == mpq_class(target) && other_ok) {
      s.value = c_.score;
      s.components[1].second = 1.0;
      s.reason = "equation = " + target.get_str();
    } else {
      s.value = c_.format_score;
      s.reason = "equation = " + value.get_str() + ", target " + target.get_str();
    }
    return s;
  }

 private:
  std::vector<mpz_class> numbers(const Sample& sample) const {
    const json::Value* v = row_field(sample, c_.numbers_key);
    if (v == nullptr) fail("reward 'countdown': the row has no field '", c_.numbers_key, "'");
    std::vector<mpz_class> out;
    if (v->IsArray()) {
      for (const auto& item : v->GetArray()) {
        std::optional<std::string> t = scalar_text(item);
        if (!t) fail("reward 'countdown': field '", c_.numbers_key, "' must hold numbers");
        out.push_back(parse_integer(*t, "number"));
      }
    } else if (v->IsString()) {
      std::string all = v->GetString(), cur;
      for (char ch : all + ",") {
        if (ch == ',' || ch == ' ') {
          if (!cur.empty()) out.push_back(parse_integer(cur, "number"));
          cur.clear();
        } else {
          cur += ch;
        }
      }
    } else {
      fail("reward 'countdown': field '", c_.numbers_key, "' must be an array or a comma-separated string");
    }
    if (out.empty()) fail("reward 'countdown': field '", c_.numbers_key, "' is empty");
    return out;
  }

  bool find_answer(const std::string& completion, std::string& answer) const {
    if (c_.answer_tags) {
      size_t open = completion.rfind("<answer>");
      if (open == std::string::npos) return false;
      size_t close = completion.find("</answer>", open + 8);
      if (close == std::string::npos) return false;
      answer = completion.substr(open + 8, close - open - 8);
      return true;
    }
    size_t end = completion.find_last_not_of(" \n\t\r");
    if (end == std::string::npos) return false;
    size_t start = completion.rfind('\n', end);
    answer = completion.substr(start == std::string::npos ? 0 : start + 1, end + 1 - (start == std::string::npos ? 0 : start + 1));
    return true;
  }

  CountdownConfig c_;
};

}  // namespace

void register_countdown_reward(Registry& registry) {
  add_reward_of<CountdownReward, CountdownConfig>(registry, "countdown",
      "the <answer> equation uses each given number once and equals the target (exact arithmetic)");
}

}  // namespace r1::rewards
