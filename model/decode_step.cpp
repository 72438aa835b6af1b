// See decode_step.h. The CUDA-graph part is compiled only with R1_WITH_CUDA (scripts/check-cuda.sh
// syntax-checks it against the LibTorch headers); it uses only APIs LibTorch 1.13 and 2.x share:
// CUDAGraph::capture_begin() with its default pool, capture_end(), replay(); getStreamFromPool();
// CUDAEvent record/block; CUDAStreamGuard.
#include "model/decode_step.h"

#if R1_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#endif

#include "common/error.h"

namespace r1::model {
namespace {

void eager_advance(const CausalLM& model, const GenerationConfig& cfg, KVCache& cache, StepState& s) {
  at::Tensor hidden = model.forward_cached(s.tok.unsqueeze(1), s.pos.unsqueeze(1), at::Tensor(), cache);  // [B, 1, H]
  s.pos.add_(1);
  sample_into(model.logits(hidden.select(1, 0)), cfg, s);  // logits [B, V]
}

void static_advance(const CausalLM& model, const GenerationConfig& cfg, KVCache& cache, StepState& s) {
  at::Tensor hidden = model.decode_step(s.tok, s.pos, cache);  // [B, 1, H]
  s.pos.add_(1);
  sample_into(model.logits(hidden.select(1, 0)), cfg, s);  // logits [B, V]
}

}  // namespace

void sample_into(const at::Tensor& logits, const GenerationConfig& cfg, StepState& s) {
  at::Tensor tok = select_tokens(logits, cfg, s.uniforms);                                  // [B]
  // The log-prob under the distribution sampled from: logits / temperature (temperature 1 when greedy).
  const bool sampling = !(cfg.greedy || cfg.temperature == 0.0);
  const at::Tensor tempered = sampling && cfg.temperature != 1.0 ? logits / cfg.temperature : logits;  // [B, V]
  s.logprob.copy_(at::log_softmax(tempered, -1).gather(1, tok.unsqueeze(1)).squeeze(1));  // [B]
  s.tok.copy_(tok);
}

struct DecodeRunner::Graph {
#if R1_WITH_CUDA
  at::cuda::CUDAGraph graph;
#endif
};

DecodeRunner::DecodeRunner(const CausalLM& model, const GenerationConfig& cfg) : model_(model), cfg_(cfg) {}
DecodeRunner::~DecodeRunner() = default;

void DecodeRunner::reset() { graph_.reset(); }

void DecodeRunner::advance(KVCache& cache, StepState& s) {
  switch (cfg_.decode_loop) {
    case DecodeLoop::kEager:
      eager_advance(model_, cfg_, cache, s);
      return;
    case DecodeLoop::kStatic:
      static_advance(model_, cfg_, cache, s);
      return;
    case DecodeLoop::kCudaGraph:
      graph_advance(cache, s);
      return;
  }
}

void DecodeRunner::graph_advance(KVCache& cache, StepState& s) {
#if R1_WITH_CUDA
  if (graph_) {
    R1_CHECK(cache.length < cache.capacity(), "generate (CUDA graph): KV cache full (capacity ", cache.capacity(), ")");
    graph_->graph.replay();  // on the current stream
    cache.length += 1;       // the host part of decode_step, which a replay does not run
    return;
  }
  auto graph = std::make_unique<Graph>();
  const at::cuda::CUDAStream main = at::cuda::getCurrentCUDAStream();
  const at::cuda::CUDAStream side = at::cuda::getStreamFromPool();
  at::cuda::CUDAEvent inputs_ready;
  inputs_ready.record(main);
  inputs_ready.block(side);
  {
    c10::cuda::CUDAStreamGuard on_side(side);  // graphs are captured on a non-default stream
    static_advance(model_, cfg_, cache, s);    // this step, for real (warm-up)
    const int64_t length = cache.length;
    graph->graph.capture_begin();
    static_advance(model_, cfg_, cache, s);    // recorded, not executed
    graph->graph.capture_end();
    cache.length = length;                     // undo the host part the recording ran
  }
  at::cuda::CUDAEvent step_done;
  step_done.record(side);
  step_done.block(main);
  graph_ = std::move(graph);
  ++captures_;
#else
  (void)cache;
  (void)s;
  fail("generate: decode_loop kCudaGraph needs a CUDA build of r1 (configure with -DR1_CUDA=ON)");
#endif
}

}  // namespace r1::model
