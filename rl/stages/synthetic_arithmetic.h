// Stage "synthetic_arithmetic": writes the data of the built-in tiny pipeline into the stage directory —
//   corpus.jsonl   {"text": doc} base-corpus documents (train-side problems, mixed styles, no R1 template)
//   train.jsonl    {"prompt": "47 + 85", "answer": "132"} RL prompts: distinct train-side questions (they may
//                  also occur in the corpus when the question space is small)
//   heldout.jsonl  {"prompt", "answer"} held-out problems (never in corpus.jsonl or train.jsonl)
// The output path is the stage directory; later stages read "stage:NAME/corpus.jsonl" etc.
#pragma once

#include <memory>

#include "datasets/arithmetic.h"
#include "rl/stage.h"

namespace r1::rl {

struct SyntheticArithmeticConfig {
  int64_t max_digits = 3;
  bool pad_operands = true;
  double add_weight = 0.5, sub_weight = 0.3, mul_weight = 0.2;
  int64_t corpus_size = 20000;   // documents
  int64_t train_size = 4000;     // RL prompts
  int64_t heldout_size = 200;    // evaluation prompts
  std::vector<int64_t> style_weights = {3, 2, 1, 1, 3};  // relative frequency of each document style
  int64_t max_framing = 4;       // framing sentences before a transcript's instruction: 0..max_framing
  int64_t max_noise_words = 0;   // a noise preamble of 0..max_noise_words words before them (0: none)
  double follow_rate = 1.0;      // share of transcripts whose reply follows the format they describe
  int64_t tag_names = 0;         // tag names per role in transcripts (0: the original 6 and 5)
  int64_t seed = -1;             // -1: derived from the recipe seed

  template <class V>
  void visit(V& v) {
    v("max_digits", max_digits, "operands have 1..max_digits digits");
    v("pad_operands", pad_operands, "write operands zero-padded to max_digits (047 + 085)");
    v("add_weight", add_weight, "relative frequency of a + b");
    v("sub_weight", sub_weight, "relative frequency of a - b");
    v("mul_weight", mul_weight, "relative frequency of a * d (one-digit d)");
    v("corpus_size", corpus_size, "base-corpus documents");
    v("train_size", train_size, "RL training prompts");
    v("heldout_size", heldout_size, "held-out evaluation prompts");
    v("style_weights", style_weights, "relative frequency of the 5 document styles (see datasets/arithmetic.h)");
    v("max_framing", max_framing, "instructed transcripts open with 0..max_framing chat-framing sentences (<= 10)");
    v("max_noise_words", max_noise_words, "and before those, a preamble of 0..max_noise_words random everyday words");
    v("tag_names", tag_names, "tag names per role that transcripts draw from (6..20; 0: the original 6 reasoning and 5 result names)");
    v("follow_rate", follow_rate, "share of instructed transcripts that answer in the format they describe (the rest answer in prose)");
    v("seed", seed, "-1: derived from the recipe seed");
  }
  void validate(const std::string& where) const;

  data::ArithmeticConfig problem_config() const;
  // The base-corpus document of the `index`-th corpus problem: a style drawn by the weights from a hash of the
  // question and the index (so a document is a pure function of both).
  std::string corpus_document(const data::ArithmeticProblem& problem, int64_t index) const;
};

// One JSONL line of string fields, in the given order.
std::string json_line(const std::vector<std::pair<std::string, std::string>>& fields);

std::unique_ptr<Stage> make_synthetic_arithmetic_stage(const StageSpec& spec);

}  // namespace r1::rl
