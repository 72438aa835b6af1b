// One decode step of generate(), three ways (GenerationConfig::decode_loop): feed each row's last token,
// get the next distribution, sample the next token and its log-prob — all on the device, into buffers.
//
//   eager      CausalLM::forward_cached (keys up to the filled slot; the reference).
//   static     CausalLM::decode_step (fixed shapes over the whole cache capacity, no host reads), then
//              the same sampling. It is exactly what the graph records, run eagerly: on the CPU that is
//              how the captured step is tested.
//   CUDA graph the static step recorded once in an at::cuda::CUDAGraph and replayed. The first step of a
//              batch size runs for real on a side stream (warming cuBLAS handles and the caching
//              allocator), then the same step is recorded (recording executes nothing) and later steps
//              replay it. Inputs and outputs are the StepState buffers, updated in place, so the graph
//              keeps reading and writing the same addresses; the per-step uniforms are copied into
//              StepState::uniforms before each replay (device to device). The cache advances on the device
//              inside the graph (cache.slot, the paged positions); the host-side cache.length is advanced
//              by the runner after each replay. Compaction replaces the cache and the buffers: reset().
//              Compiled only with R1_WITH_CUDA; elsewhere asking for it is an r1::Error.
//
// Not here: the loop, prefix sharing and end-of-row decisions (generate.cpp), the sampler (select_tokens).
//
// Letters: B rows in the batch, V vocab.
#pragma once

#include <cstdint>
#include <memory>

#include <ATen/ATen.h>

#include "model/causal_lm.h"
#include "model/generate.h"

namespace r1::model {

// The per-row state one step reads and writes in place (all [B], on the model's device).
struct StepState {
  at::Tensor tok;       // int64: in, the last token of each row; out, the sampled next one
  at::Tensor pos;       // int64: position of `tok`; advanced by one per step
  at::Tensor logprob;   // fp32: log p(tok) under the unmodified distribution (out)
  at::Tensor uniforms;  // fp32: this step's sampling uniforms (undefined when greedy)
};

// Samples s.tok and s.logprob from fp32 logits [B, V] with s.uniforms, in place.
void sample_into(const at::Tensor& logits, const GenerationConfig& cfg, StepState& s);

class DecodeRunner {
 public:
  DecodeRunner(const CausalLM& model, const GenerationConfig& cfg);
  ~DecodeRunner();
  // One step: forward s.tok at s.pos, advance s.pos, sample into s.tok / s.logprob.
  void advance(KVCache& cache, StepState& s);
  // The cache or the StepState tensors were replaced (compaction): a recorded graph is dropped.
  void reset();
  int64_t captures() const { return captures_; }

 private:
  struct Graph;
  void graph_advance(KVCache& cache, StepState& s);

  const CausalLM& model_;
  const GenerationConfig& cfg_;
  std::unique_ptr<Graph> graph_;
  int64_t captures_ = 0;
};

}  // namespace r1::model
