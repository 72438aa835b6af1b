// dist/: the processes of one job and their collectives, on LibTorch's c10d (TCPStore for the rendezvous,
// ProcessGroupGloo for the sums, in host memory: a GPU's tensors travel through host copies — NCCL, which
// would keep them on the GPUs, is not written); r1 writes no transport of its own.
//
// A job is launched the torchrun way: every process finds its place in the environment (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT), so torchrun, SLURM or Kubernetes start r1 unchanged. Without
// WORLD_SIZE (or with WORLD_SIZE=1) the process is alone: rank 0 of 1, and every collective returns at once.
//
//   dist::World world = dist::World::join(dist::launch_env_from_environment(), std::chrono::seconds(60));
//   world.all_reduce_sum(grads);        // in place; each tensor becomes the sum over the ranks
//   if (world.is_main()) write_checkpoint(...);
//
// Rank 0 hosts the TCPStore at MASTER_ADDR:MASTER_PORT; every rank (rank 0 too) connects to it, and the Gloo
// process group finds its peers through it. Gloo binds to the interface GLOO_SOCKET_IFNAME names when set (as in
// PyTorch), to the loopback address when MASTER_ADDR is a loopback address, else to this host's name.
// `timeout` bounds joining (a rank that never comes makes the others fail with an error naming the store and
// the ranks expected) and every collective (a rank that died or hangs makes the collective throw instead of
// hanging: the launcher then ends the job).
#pragma once

#include <ATen/ATen.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace r1::dist {

// Where this process stands in its job, as torchrun's environment says.
struct LaunchEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
};

// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT. WORLD_SIZE unset: a single process (the others
// are then ignored). Errors (r1::Error) name the variable and its value: a non-number, a rank outside
// [0, WORLD_SIZE), a missing RANK or MASTER_PORT in a multi-process job, a port outside 1..65535.
LaunchEnv launch_env_from_environment();

class World {
 public:
  // A single process: rank 0 of 1.
  World();
  ~World();
  World(World&&) noexcept;
  World& operator=(World&&) noexcept;

  // Joins the job `env` describes (a single process when env.world_size is 1). Throws r1::Error naming the
  // rank, the store address and the cause when the rendezvous fails or times out.
  static World join(const LaunchEnv& env, std::chrono::milliseconds timeout);

  int rank() const { return env_.rank; }
  int size() const { return env_.world_size; }
  bool is_main() const { return env_.rank == 0; }
  const LaunchEnv& env() const { return env_; }

  // In place, every tensor becomes its element-wise sum over the ranks (tensors of any shape, contiguous or
  // not, on any device — Gloo sums in host memory, so another device's tensors travel through host copies;
  // dtypes as Gloo reduces them: float, double, half and the integer types — bf16 gradients would be reduced
  // through an fp32 copy by the caller). Consecutive tensors of one dtype travel in buckets of at most
  // bucket_bytes (25 MiB; each bucket one all-reduce of a flat copy, a tensor larger than a bucket alone; a
  // bucket of one contiguous tensor is reduced in place), so many small gradients cost few collectives. Every
  // rank must pass the same shapes and dtypes in the same order.
  void all_reduce_sum(std::vector<at::Tensor>& tensors, int64_t bucket_bytes = 25 << 20) const;
  // Starts the in-place sum over the ranks of one contiguous tensor (a dtype Gloo reduces; another device's
  // through a host copy, written back by wait()) and returns at once; call wait() on the result before reading
  // the tensor or starting a collective that depends on it.
  // The ranks must start the same sums, of the same sizes, in the same order. For a single process the tensor
  // already is the sum and wait() returns at once. (Sending gradient buckets while the backward pass goes on:
  // rl/gradient_reducer.h.)
  class PendingSum {
   public:
    PendingSum() = default;
    explicit PendingSum(std::function<void()> wait) : wait_(std::move(wait)) {}
    // Blocks until the sum is complete (throws after the collective timeout, as every collective does).
    void wait() {
      if (wait_) std::exchange(wait_, nullptr)();
    }

   private:
    std::function<void()> wait_;
  };
  PendingSum start_sum(const at::Tensor& flat) const;
  // The sum over the ranks of one number per rank (metrics, token counts).
  double sum(double x) const;
  // In place, every tensor becomes rank `root`'s, bit for bit (a non-contiguous view, or another device's tensor,
  // through a contiguous host copy; bf16 as its bits).
  void broadcast(std::vector<at::Tensor>& tensors, int root = 0) const;
  // Returns when every rank has called it (or throws after the timeout).
  void barrier() const;
  // The maximum over the ranks of one number per rank.
  double max(double x) const;
  // Every rank's bytes, in rank order (each rank may give a different length): for data that is not a tensor,
  // such as the completions of a GRPO rollout that each rank sampled a share of.
  std::vector<std::string> all_gather_bytes(const std::string& mine) const;

  // Rank 0 tells the others something that may take longer than the collective timeout to get ready (a stage
  // only rank 0 runs): publish() stores `value` under `key` in the job's store; await() returns it once it is
  // there, however long that takes, and throws when the store is gone (rank 0 ended). Keys are used once.
  void publish(const std::string& key, const std::string& value) const;
  std::string await(const std::string& key) const;

  // This rank's contiguous share [begin, end) of n items split as evenly as possible over the ranks in order
  // (rank r gets [n·r/W, n·(r+1)/W)); empty when n < W for some ranks.
  std::pair<int64_t, int64_t> share(int64_t n) const {
    return {n * env_.rank / env_.world_size, n * (env_.rank + 1) / env_.world_size};
  }
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  LaunchEnv env_;
  std::chrono::milliseconds timeout_{0};
  struct Group;                    // the TCPStore and the Gloo process group (world.cpp)
  std::unique_ptr<Group> group_;  // null for a single process
};

}  // namespace r1::dist
