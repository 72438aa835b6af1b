// A worker pool for sandbox runs with a global concurrency limit and a FIFO queue.
//
// Each worker thread runs one sandbox at a time (run() blocks on the helper), so the number of workers is
// the number of programs alive at once, whatever number of callers submit. The process-wide pool
// (Pool::global()) is what the code reward uses: batch scoring on a thread pool of any size still runs at
// most `workers` sandboxes. Its size comes from R1_SANDBOX_WORKERS, else twice the number of CPUs; set it
// before first use with set_global_workers().
#pragma once

#include <cstddef>
#include <future>
#include <memory>
#include <vector>

#include "sandbox/sandbox.h"

namespace r1 {
class ThreadPool;
}

namespace r1::sandbox {

class Pool {
 public:
  explicit Pool(size_t workers);
  ~Pool();
  Pool(const Pool&) = delete;
  Pool& operator=(const Pool&) = delete;

  size_t workers() const;
  // Queues one run; the future yields its Result (run() never throws for bad requests).
  std::future<Result> submit(Request request);
  // Runs all and returns the results in order.
  std::vector<Result> run_all(const std::vector<Request>& requests);

  static Pool& global();
  // Sizes the global pool; only effective before its first use (later calls throw r1::Error).
  static void set_global_workers(size_t workers);

 private:
  std::unique_ptr<ThreadPool> threads_;
};

}  // namespace r1::sandbox
