// The workload of `r1 bench math`: realistic (gold, completion) pairs and a timed verification loop.
//
// A completion is ~500 tokens (~2,000 characters) of chain-of-thought prose with inline LaTeX and
// numbers, ending in one of the answer styles models produce (boxed in a formula, a "**Final Answer**"
// display block, Minerva's "The final answer is $X$. I hope it is correct.", an R1 <think> block then a
// boxed summary, GSM8K's "#### N"). Golds are MATH-style answers (fractions, radicals, intervals,
// tuples, matrices, text, plain numbers) — built in, or the `answer` fields of a JSONL file such as
// MATH-500. About 45% of completions carry the gold verbatim, 10% an equivalent rewriting, 45% a
// different answer; every pair knows its expected verdict, so the bench also reports agreement.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "rewards/math/math_verify.h"

namespace r1::rewards::math {

struct BenchPair {
  std::string gold;
  std::string completion;
  bool expected = false;
};

// `count` pairs, deterministic for a seed. `golds` empty: the built-in list.
std::vector<BenchPair> make_bench_pairs(size_t count, uint64_t seed, const std::vector<std::string>& golds = {});

struct BenchResult {
  size_t verifications = 0;
  double seconds = 0;
  size_t agreements = 0;  // verdicts equal to the expected ones
  double per_second() const { return seconds > 0 ? static_cast<double>(verifications) / seconds : 0; }
};

// Verifies the pairs round-robin on `threads` threads (1 = the calling thread) for at least
// `min_seconds`, whole passes over the pairs.
BenchResult run_math_bench(const std::vector<BenchPair>& pairs, size_t threads, double min_seconds,
                           const VerifyOptions& options = {});

}  // namespace r1::rewards::math
