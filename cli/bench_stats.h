// Small statistics shared by the `r1 bench` commands.
#pragma once

#include <algorithm>
#include <vector>

namespace r1::cli {

// The median of the values (the mean of the middle two for an even count); 0 for none.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace r1::cli
