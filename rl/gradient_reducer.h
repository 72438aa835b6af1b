// Data parallelism's gradient sum (dist/world.h): after the backward passes of an optimizer step, every
// parameter's gradient becomes its sum over the ranks of the job, so the clip and AdamW that follow see the
// gradient of the whole batch on every rank.
//
// The gradients travel in buckets of at most bucket_bytes (25 MiB), consecutive parameters of one dtype, last
// parameter first (the order a backward pass finishes them). With overlap on, the reducer watches the step's
// last backward pass (arm() before it): a post-hook on each parameter's gradient accumulator marks it final,
// and a bucket whose parameters are all final is sent at once (c10d's asynchronous all-reduce) while the
// backward goes on through the earlier layers — DDP's overlap. Buckets go out strictly in bucket order, so
// every rank starts the same sums in the same order; a parameter this rank gives no gradient in that pass (an
// expert no token of the last micro-batch reached) holds its bucket, and the later ones, until finish().
// finish() sends what is left, waits for everything, and settles the parameters no rank has a gradient for
// (left without one, as one process leaves them: AdamW skips them); a parameter without a gradient on some
// ranks takes part as zeros. Gradients of dtypes Gloo does not sum (bf16) travel as fp32 copies.
//
// Parameters no rank had a gradient for in the last step (a DeepSeek-V3 MTP module that GRPO does not train,
// experts nothing reached) move to buckets of their own after all the others, so they hold nothing back in the
// next steps: the ranks agree on that set (finish() sums it), so they re-plan the buckets alike.
//
// Hooks run on the thread that runs the backward pass (a GPU's autograd thread for a model on a GPU; a bucket
// of a GPU's gradients is copied to host memory there, dist/world.h). An error in a hook (a gradient
// accumulated again after its bucket was sent) surfaces from backward().
//
//   GradientReducer reducer(world, optimizer.parameters(), /*overlap=*/true);   // once per training stage
//   for each micro-batch: { if (last) reducer.arm(); loss.backward(); }
//   double exposed_s = reducer.finish();                                      // then clip + AdamW
//
// A single process has nothing to sum: no hooks, finish() returns 0 at once. dist::World::all_reduce_sum is
// the plain bucketed sum for everything else (metrics, expert loads, flags).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dist/world.h"

namespace r1::rl {

class GradientReducer {
 public:
  // `params` must stay the same tensors while the reducer lives (a model's parameters).
  GradientReducer(const dist::World& world, std::vector<at::Tensor> params, bool overlap,
                  int64_t bucket_bytes = 25 << 20);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // The next backward pass is the step's last (its gradients are final once accumulated): send buckets as
  // they fill. Without overlap (or for a single process) it does nothing.
  void arm();
  // Sends the buckets not sent yet, waits for all, and leaves every parameter its gradient summed over the
  // ranks. Call it on every rank once per optimizer step, after the step's backward passes (a rank without
  // rows in the step runs none and still calls it). Returns the seconds spent here: the communication the
  // backward pass did not hide.
  double finish();
  // Buckets sent during the backward passes of the last step (for tests and metrics).
  int64_t buckets_sent_early() const { return sent_early_; }

 private:
  struct Bucket {
    std::vector<size_t> params;         // indices into params_, in send order
    at::ScalarType dtype = at::kFloat;  // of the gradients (summed in fp32 when Gloo cannot sum it)
    size_t waiting = 0;                 // parameters not yet final in the armed pass
    at::Tensor flat;                    // [Σ numel] in flight: the gradients, flattened, in the wire dtype
    dist::World::PendingSum pending;
    bool sent = false;
  };
  void plan_buckets(const std::vector<char>& cold);  // cold[k]: parameter k goes after all the others
  void install_hooks();
  void gradient_ready(size_t param);  // the post-hook of params_[param]'s accumulator
  void send(Bucket& b);
  void send_ready_buckets();
  void unflatten(Bucket& b);          // the summed bucket back into the parameters' gradients
  std::vector<char> settle_absent();  // parameters no rank has a gradient for lose theirs; returns them

  const dist::World& world_;
  std::vector<at::Tensor> params_;
  bool overlap_;
  int64_t bucket_bytes_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // per parameter
  std::vector<char> cold_;         // per parameter: planned after the others (no gradient anywhere last step)
  std::vector<char> ready_;        // per parameter, in the armed pass
  std::vector<float> has_grad_;    // per parameter: 1 when this rank had a gradient when its bucket was sent
  struct Hooks;                    // the gradient accumulators carrying the hooks (gradient_reducer.cpp)
  std::unique_ptr<Hooks> hooks_;   // null without overlap
  size_t next_to_send_ = 0;
  bool armed_ = false;
  int64_t sent_early_ = 0;
};

}  // namespace r1::rl
