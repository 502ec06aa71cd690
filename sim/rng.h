// Deterministic random numbers. xoshiro256** with our own transforms, so a
// seed gives the same stream on every libstdc++ and thread count.
#pragma once
#include <cmath>
#include <cstdint>

#include "sim/normal_ziggurat.h"

namespace pollsim {

inline uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

class Rng {
public:
    explicit Rng(uint64_t seed = 1) { reseed(seed); }
    // Independent stream for (seed, a, b): replications and purposes
    // (service times per device, think time per job, ...) each get their own,
    // so policies compared on one seed see the same workload draws.
    Rng(uint64_t seed, uint64_t a, uint64_t b = 0) {
        uint64_t x = seed;
        uint64_t h = splitmix64(x) ^ (a * 0xd1b54a32d192ed03ULL);
        h = splitmix64(h) ^ (b * 0x8cb92ba72f3d8dd7ULL);
        reseed(h);
    }
    void reseed(uint64_t seed) {
        uint64_t x = seed;
        for (auto& w : s_) w = splitmix64(x);
    }
    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }
    // Uniform in (0, 1): never 0, so log() is safe.
    double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * 0x1.0p-53; }
    // Uniform integer in [0, n).
    uint64_t below(uint64_t n) { return n ? next() % n : 0; }
    double exponential(double mean) { return -mean * std::log(uniform()); }
    // Standard normal by ziggurat: one 64-bit draw per value almost always,
    // and no state beyond the generator's (no cached second value).
    double normal() {
        return NormalZiggurat::instance().sample([this] { return next(); }, [this] { return uniform(); });
    }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t s_[4];
};

}  // namespace pollsim
