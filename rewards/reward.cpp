// See reward.h.
#include "rewards/reward.h"

#include "common/thread_pool.h"

namespace r1::rewards {

std::vector<Score> Reward::score_batch(const std::vector<Sample>& samples, ThreadPool* pool) const {
  std::vector<Score> out(samples.size());
  if (pool == nullptr || samples.size() < 2) {
    for (size_t i = 0; i < samples.size(); ++i) out[i] = score(samples[i]);
    return out;
  }
  pool->parallel_for(samples.size(), [&](size_t i) { out[i] = score(samples[i]); });
  return out;
}

}  // namespace r1::rewards
