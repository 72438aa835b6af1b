// Synthetic arithmetic problems with worked, column-by-column solutions: the material of the built-in
// tiny pipeline (a base model is pretrained on documents made from them, then R1-Zero GRPO trains it on
// held-out problems).
//
// A problem is "a op b" with op in {+, −, ×} (× by a one-digit number), operands of 1..max_digits digits,
// and a worked solution that goes column by column from the right, carrying the partial result so the final
// answer is a copy of the last partial (a small model can learn that), e.g. for 47 + 85:
//   "7+5=12, so 2 carry 1. 4+8+1=13, so 32 carry 1. so 132" (when the last partial is the answer, the
// steps end with it: "4+3=7, so 7. 2+1=3, so 37")
// Problems are a pure function of (seed, index), so a corpus can be regenerated anywhere. The split into
// train / held-out is by a hash of the question text, so the same question never lands on both sides no
// matter how the two sets were drawn.
//
// Base-corpus documents are deliberately NOT in the R1-Zero template: they mix plain "Problem/Solution"
// prose with marked-up styles in which <think> and <answer> tags occur separately (never the
// "<think> … </think> <answer> … </answer>" pair), and transcripts whose instruction describes some other
// tag format that the answer then follows — the way a web-pretrained base model has seen markup and
// instructions without having seen the R1 format. See docs/tiny_pipeline.md for why.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace r1::data {

struct ArithmeticConfig {
  int max_digits = 3;            // operands have 1..max_digits digits (the × multiplier always has 1)
  double add_weight = 0.5;       // relative frequencies of the three operations
  double sub_weight = 0.3;
  double mul_weight = 0.2;
  uint64_t heldout_modulus = 10;  // a question is held-out when hash(question) % modulus == 0
  // Write multi-digit operands zero-padded to max_digits ("047 + 085"): every column then sits at a fixed
  // offset from the operator, which a few-million-parameter model learns to read several times faster.
  bool pad_operands = true;
};

struct ArithmeticProblem {
  std::string question;  // "047 + 085" (pad_operands) or "47 + 85"
  std::string steps;     // "7+5=12, so 2 carry 1. 4+8+1=13, so 32 carry 1. so 132"
  std::string answer;    // "132"
  bool heldout = false;  // on the held-out side of the split
};

// The problem at `index` of the stream defined by `seed` (pure function).
ArithmeticProblem arithmetic_problem(const ArithmeticConfig& config, uint64_t seed, uint64_t index);

// The first `count` problems of the stream on the requested side of the split (train or held-out); with
// `distinct`, repeated questions are skipped (an error when the space has fewer than `count`).
std::vector<ArithmeticProblem> arithmetic_problems(const ArithmeticConfig& config, uint64_t seed, size_t count,
                                                   bool heldout, bool distinct = true);

// How instructed transcripts (style 4) are written.
struct TranscriptOptions {
  int max_framing = 4;       // 0..max_framing chat-framing sentences before the instruction (at most 10)
  int max_noise_words = 0;   // before those, a preamble of 0..max_noise_words everyday words (0: none)
  double follow_rate = 1.0;  // share of transcripts whose reply follows the described answer format
  int tag_names = 0;         // tag names per role (6..20; 0: the original 6 reasoning and 5 result names)
};

// One base-corpus document for a problem; `style` picks among kBaseCorpusStyles:
//   0 "Problem: 47 + 85\nSolution: <steps>. The answer is 132."
//   1 "Q: 47 + 85 <think> <steps> </think> The result is 132."
//   2 "Q: 47 + 85 <answer> 132 </answer>"
//   3 "47 + 85 = 132 because <steps>."
//   4 an instructed transcript: "<framing> <instruction naming tags A and B> User: 47 + 85. Assistant: <A>
//     <steps> </A> <B> 132 </B>" with (A, B), the instruction's wording and the number of framing sentences
//     drawn from `variant`, optionally after a noise preamble. It teaches the model to follow an answer
//     format that the prompt describes, and to find the question after a long preamble it cannot predict;
//     A may be "think" and B "answer", never both. With follow_rate < 1, the other transcripts keep the
//     reasoning block but give the answer in prose ("<A> <steps> </A> The result is 132."), as a base model
//     from the web follows a described format only some of the time.
std::string arithmetic_document(const ArithmeticProblem& problem, int style, uint64_t variant = 0,
                                const TranscriptOptions& transcript = {});
constexpr int kBaseCorpusStyles = 5;

// Stable 64-bit FNV-1a hash of a string (used for the split).
uint64_t stable_hash(const std::string& text);

}  // namespace r1::data
