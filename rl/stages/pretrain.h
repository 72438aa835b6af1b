// Stage "pretrain": plain next-token prediction on text JSONL ({"text": ...}); every token is a target.
// Gives the tiny model its base ability, and serves continued pretraining. The loop is the shared
// causal-LM trainer (rl/lm_trainer.h); this stage only turns documents into token sequences: the
// tokenizer's special tokens (BOS) as it adds them, then the text, then EOS when add_eos.
//
//   {"name": "base", "type": "pretrain", "model": {...}, "data": "stage:data/corpus.jsonl",
//    "steps": 400, "batch_size": 32, "max_len": 256, "mtp_weight": 0.3, "optim": {"lr": 3e-3}}
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rl/lm_trainer.h"

namespace r1::rl {

struct PretrainConfig {
  LmTrainConfig train;
  std::string text_key = "text";
  bool add_eos = true;

  template <class V>
  void visit(V& v) {
    train.visit(v);
    v("text_key", text_key, "JSONL field holding each document's text");
    v("add_eos", add_eos, "append EOS to every document");
  }
  void validate(const std::string& where) const { train.validate(where); }
  // Runs on every rank of a job, each on its share of every step (rl/stage.h).
  bool data_parallel() const { return true; }
};

// The documents of a text JSONL file as training sequences (every token a target).
std::vector<Sequence> pretrain_sequences(const PretrainConfig& c, const model::Tokenizer& tok, const std::string& path,
                                         std::optional<int64_t> eos);

std::unique_ptr<Stage> make_pretrain_stage(const StageSpec& spec);

}  // namespace r1::rl
