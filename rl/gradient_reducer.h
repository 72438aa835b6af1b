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
//   GradientReducer reducer(world, optimizer.parameters(), /*overlap=*/true);   // once per training stage
//   for each micro-batch: { if (last) reducer.arm(); loss.backward(); }
//   double exposed_s = reducer.finish();                                      // then clip + AdamW
//
// A single process has nothing to sum: no hooks, finish() returns 0 at once.
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
  // Buckets sent during the backward passes so far (for tests and metrics).
  int64_t buckets_sent_early() const { return sent_early_; }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_, in order
    at::ScalarType dtype = at::kFloat;  // of the gradients (reduced in fp32 when Gloo cannot sum it)
    size_t waiting = 0;          // parameters not yet final in the armed pass
    at::Tensor flat;             // while in flight
    dist::World::PendingSum pending;
    bool sent = false;
  };
  void gradient_ready(size_t param);  // the post-hook of params_[param]'s accumulator
  void send(Bucket& b);
  void send_ready_buckets();

  const dist::World& world_;
  std::vector<at::Tensor> params_;
  bool overlap_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // per parameter
  std::vector<char> ready_;        // per parameter, in the armed pass
  std::vector<float> has_grad_;    // per parameter: 1 when this rank had a gradient when its bucket was sent
  struct Hooks;                  // the gradient accumulators carrying the hooks (gradient_reducer.cpp)
  std::unique_ptr<Hooks> hooks_;  // null without overlap
  size_t next_to_send_ = 0;
  bool armed_ = false;
  int64_t sent_early_ = 0;
};

}  // namespace r1::rl
