// Deterministic data order for training stages: position p (0, 1, 2, ... across epochs) maps to an example
// index. Epoch e = p / n is a Fisher–Yates permutation drawn from (seed, e) with a portable generator, so
// the order is a pure function of (n, seed, p): a resumed run that restores p sees exactly the examples an
// uninterrupted run would have seen, in the same order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace r1::data {

class ShuffledOrder {
 public:
  ShuffledOrder(size_t n, uint64_t seed, bool shuffle = true);
  size_t size() const { return n_; }
  // The example index at global position p.
  size_t at(uint64_t position);
  uint64_t epoch_of(uint64_t position) const { return n_ ? position / n_ : 0; }

 private:
  void build_epoch(uint64_t epoch);

  size_t n_;
  uint64_t seed_;
  bool shuffle_;
  uint64_t cached_epoch_ = UINT64_MAX;
  std::vector<size_t> perm_;
};

}  // namespace r1::data
