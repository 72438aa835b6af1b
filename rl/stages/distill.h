// Stage "distill": distils a teacher into a (small, dense) student. docs/distillation.md has the keys, the
// modes, their costs and a recipe.
//
// The student ("model": an HF directory or an init_config of a Qwen2 / Llama / ... shape, with its own
// tokenizer) is trained on the teacher's text — chat JSONL such as a rejection_sampling stage's sft.jsonl.
// The rows are text, rendered with the *student's* chat template and tokenised by the *student's*
// tokenizer (rl/stages/sft.h: the sft stage's own code path), so any teacher works whatever its tokenizer.
// The result is a chat model exactly as an sft stage makes one (chat_tokenizer/ with the template and its
// special tokens, copied into every checkpoint and final/).
//
// Modes (`mode`):
//   sft         what DeepSeek-R1 did for its Qwen2.5 / Llama students: SFT on the teacher's samples, by
//               default 2 epochs (`epochs`), cosine to 1/10 of the peak lr, packing. No teacher model needed.
//   forward_kl  beyond R1: on the same tokens, (1 − kl_weight) × the SFT cross-entropy + kl_weight × the
//               token-mean KL(p_teacher ‖ p_student) of the next-token distributions, the teacher's logits
//               computed on the fly (`teacher`), optionally its top-k only (`top_k`, renormalised).
//               Cost: one teacher forward per step over the step's tokens (no backward), and both models'
//               logits over the vocabulary, chunk by chunk, in the loss (forward and again in backward).
//   reverse_kl  on-policy: for each of the step's rows the student samples a reply to the row's prompt
//               (`sampling`, the generation engine with its KV cache), the teacher scores it, and the loss
//               is the token-mean KL(p_student ‖ p_teacher) over the sampled tokens (exact over the vocabulary
//               at each position; the sampled tokens are data: no gradient through the sampling, so the
//               per-position KLs are descended at fixed prefixes, as in GKD, not the sequence-level reverse KL's
//               exact gradient), plus (1 − kl_weight) × the SFT cross-entropy
//               on the rows themselves when kl_weight < 1. Cost: generation of batch_size replies of up to
//               sampling.max_new_tokens per step, then one student forward/backward and one teacher forward
//               over prompt + reply.
// The logit modes need a shared vocabulary: the same number of tokens and identical token strings (checked
// before training; otherwise an error naming both tokenizers). The teacher reads the student's rendering of
// each row (same ids, since the vocabulary is shared).
//
//   {"name": "distill", "type": "distill", "model": {"init_config": {...Qwen2...}, "tokenizer": "qwen_tok/"},
//    "data": "stage:rs/sft.jsonl", "chat_template": "qwen", "epochs": 2, "batch_size": 64, "max_len": 4096,
//    "optim": {"lr": 1e-5}}
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "rl/rollout.h"
#include "rl/stages/sft.h"

namespace r1::rl {

enum class DistillMode { kSft, kForwardKl, kReverseKl };
const std::vector<std::pair<DistillMode, const char*>>& enum_names(DistillMode);

struct DistillConfig {
  SftConfig sft = [] {  // the student ("model"), the teacher's text ("data"), epochs, batch_size, packing, optim, ...
    SftConfig s;
    s.epochs = 2;  // R1: 2-3
    return s;
  }();
  DistillMode mode = DistillMode::kSft;
  ModelSource teacher;
  double kl_weight = 0.5;
  int64_t top_k = 0;
  int64_t kl_chunk = 1024;
  SamplingConfig sampling = [] {
    SamplingConfig s;
    s.max_new_tokens = 256;
    s.temperature = 1.0;
    return s;
  }();

  template <class V>
  void visit(V& v) {
    sft.visit(v);
    v("mode", mode, "sft (R1: SFT on the teacher's text) | forward_kl (+ KL to the teacher's logits on the same "
                    "tokens) | reverse_kl (on-policy: the student samples, the teacher scores)");
    v("teacher", teacher);
    v("kl_weight", kl_weight, "forward_kl / reverse_kl: loss = (1 - kl_weight) x SFT cross-entropy + kl_weight x KL");
    v("top_k", top_k, "forward_kl: the teacher's top-k tokens only, renormalised (0: the full vocabulary)");
    v("kl_chunk", kl_chunk, "tokens per chunk of the KL's [chunk x vocab] logits (memory vs. speed)");
    v("sampling", sampling);
  }
  void validate(const std::string& where) const;
  // Every mode runs on every rank of a job (rl/stage.h), each rank on its share of every step's rows: the teacher's
  // logits of those rows (forward_kl), the student's replies to those prompts (reverse_kl).
  bool data_parallel() const { return true; }
};

// Errors unless the two tokenizers have the same vocabulary: the same number of tokens and the same token
// string at every id. The message names both tokenizers (their files) and the first difference.
void check_shared_vocabulary(const model::Tokenizer& teacher, const model::Tokenizer& student, const std::string& where);

std::unique_ptr<Stage> make_distill_stage(const StageSpec& spec);

}  // namespace r1::rl
