// Seed derivation: every random stream of r1 (data order, synthetic data, numeric probes of the math
// verifier, stage seeds, per-step rollout seeds) comes from these few integer mixers, so a run is
// reproducible from the recipe's seed on any machine and standard library (std distributions are not
// portable, so draws are made from raw 64-bit values).
//
// The constants are part of the reproducibility contract: documented seed tables (docs/tiny_pipeline.md)
// were measured with them. Changing any of them changes every generated dataset and every run.
#pragma once

#include <cstdint>

namespace r1 {

inline constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ull;  // 2^64 / golden ratio

// splitmix64 (Steele, Lea, Flood 2014): the output for the state x (x advanced by one gamma, then mixed).
inline uint64_t splitmix64(uint64_t x) {
  x += kGoldenGamma;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// The next value of a splitmix64 stream, advancing `state`.
inline uint64_t splitmix64_next(uint64_t& state) {
  const uint64_t out = splitmix64(state);
  state += kGoldenGamma;
  return out;
}

// The seed of the stage at `index` in a recipe with seed `recipe_seed` (47 bits, so it prints exactly as a
// JSON number everywhere).
inline uint64_t stage_seed(int64_t recipe_seed, uint64_t index) {
  const uint64_t x = static_cast<uint64_t>(recipe_seed) * kGoldenGamma + (index + 1) * 0xBF58476D1CE4E5B9ull;
  return (x ^ (x >> 31)) & 0x7FFFFFFFFFFFull;
}

// A seed for sub-stream b of seed a (e.g. a trainer step of a stage, a sampling round of a step); 63 bits.
inline uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t x = a * kGoldenGamma ^ (b + 0x632BE59BD9B4E019ull) * 0xBF58476D1CE4E5B9ull;
  x ^= x >> 29;
  return x & 0x7FFFFFFFFFFFFFFFull;
}

}  // namespace r1
