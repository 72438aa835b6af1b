// See math_bench.h.
#include "rewards/math/math_bench.h"

#include <atomic>
#include <chrono>
#include <random>
#include <thread>

namespace r1::rewards::math {
namespace {

// MATH-style gold answers covering the answer kinds of the dataset.
const char* const kGolds[] = {
    "42", "-7", "1000", "\\frac{3}{4}", "\\frac{14}{3}", "-\\frac{35}{9}", "3\\sqrt{13}", "\\frac{\\sqrt{3}}{2}",
    "2\\pi", "18+2\\pi", "\\left( 3, \\frac{\\pi}{2} \\right)", "(2, -1)", "(6,31,-1)", "[-2,7]", "(2,\\infty)",
    "(-\\infty, 0] \\cup [4, \\infty)", "\\{1,2,3\\}", "1 \\pm \\sqrt{19}", "x^2 - 7x + 10", "2k+2", "y = 2x + 3",
    "\\begin{pmatrix} 1 \\\\ -2 \\end{pmatrix}", "\\text{(C)}", "\\text{Evelyn}", "90^\\circ", "0.15", "27.0",
    "6 - 5i", "\\$32,\\!348", "10,\\!080", "204_5", "\\dfrac{17}{50}", "1\\frac{4}{5}", "5\\%", "x \\in [-2,7]",
    "3, 5, 7", "\\frac{1+\\sqrt{5}}{2}", "\\sqrt{51}", "864 \\mbox{ inches}^2", "p - q", "\\cot x", "12\\pi",
};

// Equivalent rewritings of some golds (gold, other form).
const std::pair<const char*, const char*> kRewrites[] = {
    {"\\frac{3}{4}", "0.75"}, {"\\frac{14}{3}", "\\dfrac{14}{3}"}, {"3\\sqrt{13}", "\\sqrt{117}"},
    {"(2,\\infty)", "x > 2"}, {"\\{1,2,3\\}", "3, 2, 1"}, {"1 \\pm \\sqrt{19}", "1+\\sqrt{19}, 1-\\sqrt{19}"},
    {"x^2 - 7x + 10", "(x-2)(x-5)"}, {"2k+2", "2(k+1)"}, {"y = 2x + 3", "2x + 3"}, {"90^\\circ", "90"},
    {"0.15", "\\frac{3}{20}"}, {"1\\frac{4}{5}", "\\frac{9}{5}"}, {"2\\pi", "\\pi \\cdot 2"}, {"42", "x = 42"},
};

const char* const kSentences[] = {
    "First, we note that $%d + %d = %d$, so the sum is even. ",
    "Let $x = %d$. Then $x^2 - %d x + %d$ has discriminant $%d$, which is not a perfect square. ",
    "We compute $\\frac{%d}{%d}$ and simplify the fraction by the greatest common divisor. ",
    "Since $\\sqrt{%d} \\approx %d$, we check the nearby integers one by one. ",
    "Therefore the number of ways is $\\binom{%d}{%d}$, which we evaluate in the next step. ",
    "Multiplying both sides by %d gives %d, and subtracting %d we get %d on the right. ",
    "Next, consider the case where $n$ is odd; then $n^2 \\equiv 1 \\pmod{%d}$ for every such $n$. ",
    "Substituting back, the area of the triangle is $\\frac{1}{2} \\cdot %d \\cdot %d = %d$ square units. ",
    "Wait, let me double-check this: %d times %d is %d, and adding %d does not change the parity. ",
    "So we need $%d < k \\le %d$, which leaves exactly %d possible values of $k$ to consider. ",
};

std::string cot(std::mt19937_64& rng, size_t target_chars) {
  std::string text;
  char buf[512];
  std::uniform_int_distribution<int> small(1, 99), big(100, 9999);
  while (text.size() < target_chars) {
    const char* s = kSentences[rng() % (sizeof(kSentences) / sizeof(kSentences[0]))];
    std::snprintf(buf, sizeof(buf), s, small(rng), small(rng), big(rng), small(rng), small(rng), small(rng));
    text += buf;
    if (rng() % 7 == 0) text += "\n\n";
  }
  return text;
}

std::string with_answer(std::mt19937_64& rng, const std::string& body, const std::string& answer) {
  switch (rng() % 5) {
    case 0:
      return body + "\n\nTherefore, the answer is $\\boxed{" + answer + "}$.";
    case 1:
      return body + "\n\n**Final Answer**\n\\[\n\\boxed{" + answer + "}\n\\]";
    case 2:
      return body + "\n\nFinal Answer: The final answer is $" + answer + "$. I hope it is correct.";
    case 3:
      return "<think>\n" + body + "\n</think>\n\nThe result is $\\boxed{" + answer + "}$.";
    default:
      return body + "\nSo the value we want is \\boxed{" + answer + "}.";
  }
}

}  // namespace

std::vector<BenchPair> make_bench_pairs(size_t count, uint64_t seed, const std::vector<std::string>& golds_in) {
  std::vector<std::string> golds = golds_in;
  if (golds.empty())
    for (const char* g : kGolds) golds.emplace_back(g);
  std::mt19937_64 rng(seed);
  std::vector<BenchPair> out;
  out.reserve(count);
  for (size_t k = 0; k < count; ++k) {
    BenchPair p;
    p.gold = golds[rng() % golds.size()];
    std::string answer = p.gold;
    unsigned kind = static_cast<unsigned>(rng() % 100);
    p.expected = true;
    if (kind < 10) {  // an equivalent rewriting when the gold has one
      for (const auto& [g, other] : kRewrites)
        if (p.gold == g) answer = other;
    } else if (kind >= 55) {
      const std::string& other = golds[rng() % golds.size()];
      answer = other;
      p.expected = answers_equivalent(p.gold, other);
    }
    p.completion = with_answer(rng, cot(rng, 1900), answer);
    out.push_back(std::move(p));
  }
  return out;
}

BenchResult run_math_bench(const std::vector<BenchPair>& pairs, size_t threads, double min_seconds,
                           const VerifyOptions& options) {
  using Clock = std::chrono::steady_clock;
  BenchResult result;
  if (pairs.empty()) return result;
  threads = std::max<size_t>(1, threads);
  std::atomic<size_t> done{0}, agree{0};
  std::atomic<bool> stop{false};
  auto start = Clock::now();
  auto worker = [&](size_t offset) {
    size_t local_done = 0, local_agree = 0;
    for (size_t pass = 0; !stop.load(); ++pass) {
      for (size_t k = 0; k < pairs.size(); ++k) {
        const BenchPair& p = pairs[(k + offset) % pairs.size()];
        if (verify(p.gold, p.completion, options).correct == p.expected) ++local_agree;
        ++local_done;
      }
      if (std::chrono::duration<double>(Clock::now() - start).count() >= min_seconds) stop = true;
    }
    done += local_done;
    agree += local_agree;
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker, t * 7919);
  worker(0);
  for (std::thread& t : pool) t.join();
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  result.verifications = done.load();
  result.agreements = agree.load();
  return result;
}

}  // namespace r1::rewards::math
