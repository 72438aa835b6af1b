// See pool.h. Built on r1::ThreadPool (fixed threads, FIFO queue); each task owns its request and fulfils
// a promise, so callers can wait on their own runs without waiting for everybody else's.
#include "sandbox/pool.h"

#include <cstdlib>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/thread_pool.h"

namespace r1::sandbox {

namespace {

std::mutex g_global_mutex;
size_t g_global_workers = 0;  // 0: decide at first use
bool g_global_created = false;

size_t default_workers() {
  if (const char* env = std::getenv("R1_SANDBOX_WORKERS"); env != nullptr && *env) {
    const long n = std::strtol(env, nullptr, 10);
    if (n > 0) return static_cast<size_t>(n);
  }
  // Twice the CPUs: part of each run is waiting (namespace set-up and teardown), and on 2 cores 4 workers
  // gave 28 runs/s against 19 for 2 (BENCHMARKS.md).
  const unsigned cpus = std::thread::hardware_concurrency();
  return 2 * (cpus > 0 ? cpus : 2);
}

}  // namespace

Pool::Pool(size_t workers) : threads_(std::make_unique<ThreadPool>(workers > 0 ? workers : 1)) {}

Pool::~Pool() = default;

size_t Pool::workers() const { return threads_->size(); }

std::future<Result> Pool::submit(Request request) {
  auto promise = std::make_shared<std::promise<Result>>();
  std::future<Result> future = promise->get_future();
  threads_->submit([promise, request = std::move(request)]() {
    try {
      promise->set_value(run(request));
    } catch (...) {
      promise->set_exception(std::current_exception());
    }
  });
  return future;
}

std::vector<Result> Pool::run_all(const std::vector<Request>& requests) {
  std::vector<std::future<Result>> futures;
  futures.reserve(requests.size());
  for (const Request& r : requests) futures.push_back(submit(r));
  std::vector<Result> results;
  results.reserve(requests.size());
  for (auto& f : futures) results.push_back(f.get());
  return results;
}

Pool& Pool::global() {
  static Pool* pool = [] {
    std::lock_guard<std::mutex> lock(g_global_mutex);
    g_global_created = true;
    return new Pool(g_global_workers > 0 ? g_global_workers : default_workers());  // lives until exit
  }();
  return *pool;
}

void Pool::set_global_workers(size_t workers) {
  std::lock_guard<std::mutex> lock(g_global_mutex);
  R1_CHECK(!g_global_created, "sandbox: the global pool is already running; set its size before first use");
  g_global_workers = workers;
}

}  // namespace r1::sandbox
