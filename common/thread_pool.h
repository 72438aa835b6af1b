// A fixed-size thread pool with a FIFO queue, and parallel_for on top of it. Used for batch reward
// scoring and other CPU fan-out; exceptions thrown by a task are rethrown to the caller of wait() /
// parallel_for (the first one wins, the rest of the batch still runs to completion).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace r1 {

class ThreadPool {
 public:
  // threads == 0 → std::thread::hardware_concurrency().
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return workers_.size(); }

  // Runs fn(i) for i in [0, n) on the pool and blocks until all are done; rethrows the first exception.
  void parallel_for(size_t n, const std::function<void(size_t)>& fn);

  // Enqueues a task; wait() blocks until the queue is empty and every task has finished.
  void submit(std::function<void()> task);
  void wait();

 private:
  void worker_loop();

  std::vector<std::thread> workers_;
  std::deque<std::function<void()>> queue_;
  std::mutex mutex_;
  std::condition_variable work_cv_, done_cv_;
  size_t active_ = 0;
  bool stopping_ = false;
  std::exception_ptr first_error_;
};

}  // namespace r1
