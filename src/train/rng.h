// Rng: a small, fast, portable random generator (SplitMix64) so that models
// are identical across compilers and standard libraries for one seed.
#pragma once

#include <cstdint>

namespace fb::train {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  // A generator for stream `stream` of `seed` (e.g. one per tree). The start
  // state is a hash of both, so streams begin at unrelated points of the
  // 2^64 cycle (a plain seed + stream offset would make stream t a copy of
  // stream 0 shifted by t draws, and trees nearly identical).
  static Rng ForStream(uint64_t seed, uint64_t stream) {
    return Rng(Mix(Mix(seed) ^ Mix(stream + 0x632BE59BD9B4E019ull)));
  }
  uint64_t Next() { return Mix(state_ += 0x9E3779B97F4A7C15ull); }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias < n / 2^64).
  uint64_t Below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }
  // Uniform in [0, 1).
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t Mix(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  uint64_t state_;
};

}  // namespace fb::train
