// See causal_lm.h: the FP8 rollout copy of a CausalLM — which weights it quantises, how it is refreshed,
// how staleness is detected.
//
// The copy is a second vector of layer bindings (rollout_layers_). Binding structs hold at::Tensor
// handles, so copying layers_ copies handles, not weights: every dense tensor of the copy IS the
// trainable one (an optimizer step is visible at once in norms, router, correction bias, kv_b_proj),
// and only the FP8 forms added to it are new memory. Quantisation is kernels::quantize_weight (128x128
// blocks; the CUDA kernel on a GPU model, bit-identical to the CPU reference), written in place on a
// refresh so that addresses captured by a CUDA graph stay valid.
//
// Staleness: at::Tensor's version counter goes up with every in-place change (the optimizer's add_ /
// copy_, copy_parameters_from, a checkpoint restore). The copy records the sum of the counters of the
// weights it quantised; a different sum means some quantised weight moved since. Inference tensors
// (made under c10::InferenceMode) have no counter and count as 0 — such a model is not being trained.
#include <chrono>

#include "common/error.h"
#include "kernels/cuda_support.h"
#include "model/causal_lm.h"

namespace r1::model {
namespace {

int64_t version_of(const at::Tensor& t) { return t.defined() && !t.is_inference() ? t._version() : 0; }

}  // namespace

template <class Layer, class Fn>
void CausalLM::for_each_fp8_linear(Layer& layer, Fn&& fn) {
  auto& a = layer.attn;
  for (auto* l : {&a.q_proj, &a.k_proj, &a.v_proj, &a.o_proj, &a.q_a_proj, &a.q_b_proj, &a.kv_a_proj}) {
    if (l->weight.defined()) fn(*l);  // kv_b_proj stays dense: absorbed MLA reads it as per-head matrices
  }
  auto* mlp = layer.is_moe ? (layer.moe.has_shared ? &layer.moe.shared : nullptr) : &layer.mlp;
  if (mlp) {
    for (auto* l : {&mlp->gate, &mlp->up, &mlp->down}) fn(*l);
  }
}

int64_t CausalLM::rollout_source_version() const {
  int64_t sum = 0;
  for (const DecoderLayer& layer : rollout_layers_) {
    for_each_fp8_linear(layer, [&](const Linear& l) { sum += version_of(l.weight); });
    if (layer.is_moe) {
      for (const MlpWeights& e : layer.moe.experts) {
        sum += version_of(e.gate.weight) + version_of(e.up.weight) + version_of(e.down.weight);
      }
    }
  }
  return sum;
}

bool CausalLM::rollout_copy_stale() const {
  return has_rollout_copy() && rollout_source_version() != rollout_version_;
}

RolloutCopyStats CausalLM::make_rollout_copy(WeightFormat format) {
  if (format == WeightFormat::kDense) {
    rollout_layers_.clear();
    rollout_stats_ = RolloutCopyStats{};
    return rollout_stats_;
  }
  R1_CHECK(!config_.is_sequence_classifier(), "make_rollout_copy: the model is a sequence classifier (",
           config_.architecture, "); only generation uses the rollout copy, and a classifier does not generate");
  if (!has_rollout_copy()) {
    rollout_layers_ = layers_;  // handles: the dense tensors are shared, FP8 forms get added below
    rollout_stats_ = RolloutCopyStats{};
    rollout_stats_.format = WeightFormat::kFp8;
  }
  return refresh_rollout_copy();
}

RolloutCopyStats CausalLM::refresh_rollout_copy() {
  R1_CHECK(has_rollout_copy(), "refresh_rollout_copy: this model has no rollout copy (make_rollout_copy first)");
  const auto t0 = std::chrono::steady_clock::now();
  int64_t matrices = 0, bytes = 0;
  for (DecoderLayer& layer : rollout_layers_) {
    for_each_fp8_linear(layer, [&](Linear& l) {
      bytes += quantize_linear(l);
      ++matrices;
    });
    if (layer.is_moe) {
      bytes += quantize_experts(layer.moe);
      matrices += 3 * static_cast<int64_t>(layer.moe.experts.size());
    }
  }
  kernels::synchronize(device_);  // the time includes the device work
  rollout_version_ = rollout_source_version();
  rollout_stats_.matrices = matrices;
  rollout_stats_.bytes = bytes;
  rollout_stats_.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++rollout_stats_.refreshes;
  return rollout_stats_;
}

}  // namespace r1::model
