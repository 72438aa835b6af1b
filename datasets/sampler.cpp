// See sampler.h.
#include "datasets/sampler.h"

#include <numeric>

#include "common/error.h"
#include "common/seed.h"

namespace r1::data {
ShuffledOrder::ShuffledOrder(size_t n, uint64_t seed, bool shuffle) : n_(n), seed_(seed), shuffle_(shuffle) {}

void ShuffledOrder::build_epoch(uint64_t epoch) {
  perm_.resize(n_);
  std::iota(perm_.begin(), perm_.end(), size_t{0});
  if (shuffle_) {
    uint64_t state = seed_ * 0x2545F4914F6CDD1Dull ^ (epoch + 1) * kGoldenGamma;
    for (size_t i = n_; i > 1; --i) std::swap(perm_[i - 1], perm_[splitmix64_next(state) % i]);
  }
  cached_epoch_ = epoch;
}

size_t ShuffledOrder::at(uint64_t position) {
  R1_CHECK(n_ > 0, "data order: the dataset is empty");
  uint64_t epoch = position / n_;
  if (epoch != cached_epoch_) build_epoch(epoch);
  return perm_[position % n_];
}

}  // namespace r1::data
