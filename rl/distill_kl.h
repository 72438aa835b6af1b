// Token-level KL divergences between a student's and a teacher's next-token distributions, for logit
// distillation (rl/stages/distill.h), computed from final hidden states in chunks so that neither the
// student's nor the teacher's [N×V] logits are ever held whole — as rl/logprobs.h does for log-probs. The
// backward pass recomputes each chunk's logits (student and teacher: one matmul each) and applies the
// closed-form gradient with respect to the student's logits z:
//   forward  KL(p_T ‖ p_S) = Σ_v p_T(v) (log p_T(v) − log p_S(v))        d/dz = p_S − p_T
//   reverse  KL(p_S ‖ p_T) = Σ_v p_S(v) (log p_S(v) − log p_T(v))        d/dz_v = p_S(v) (log p_S(v) − log p_T(v) − KL)
// Top-k (forward only): the teacher's distribution truncated to its k most likely tokens and renormalised,
// p̂_T; the loss is KL(p̂_T ‖ p_S) with the student's full log-softmax, so the student is also pushed off the
// tokens outside the teacher's top k. It is not zero when the student equals the teacher: its floor is
// −log(teacher mass in the top k).
// Only the first `vocab` logits of each model are used (a model's embedding may be padded past its
// tokenizer, e.g. Qwen2.5's 151,936 rows for 151,665 tokens); both LM heads must have at least that many rows.
// Logits are computed and soft-maxed in fp32 whatever the models' dtype. The teacher gets no gradient.
// Letters: N tokens (rows), Hs / Ht the student's / teacher's hidden size, V the shared vocabulary.
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace r1::rl {

enum class KlDirection { kForward, kReverse };

struct DistillKlOptions {
  KlDirection direction = KlDirection::kForward;
  int64_t vocab = 0;          // logits compared: ids [0, vocab)
  int64_t top_k = 0;          // forward only: the teacher's top k, renormalised (0 = the full vocabulary)
  int64_t chunk_tokens = 1024;
};

// Per-token KL [N] fp32, differentiable with respect to student_hidden [N, Hs] and student_weight [V', Hs];
// teacher_hidden [N, Ht] and teacher_weight [V'', Ht] are constants.
at::Tensor chunked_distill_kl(const at::Tensor& student_hidden, const at::Tensor& student_weight,
                              const at::Tensor& teacher_hidden, const at::Tensor& teacher_weight,
                              const DistillKlOptions& options);

// The same through full [N, V] logits and plain autograd: the reference the chunked path is tested against.
at::Tensor full_distill_kl(const at::Tensor& student_hidden, const at::Tensor& student_weight,
                           const at::Tensor& teacher_hidden, const at::Tensor& teacher_weight,
                           const DistillKlOptions& options);

}  // namespace r1::rl
