// "ski-rental-random": the randomized break-even rule (Karlin, Manasse,
// McGeoch, Owicki 1990). Each wait polls for a fresh threshold x drawn from
// the density p(x) = e^(x/B) / (B (e - 1)) on [0, B], B = poll-max-ns (the
// sleep cost, as in ski-rental; same default). Against any gap chosen in
// advance the expected cost is at most e/(e-1) ~ 1.582 times min(gap, B).
//
// Drawing: the CDF is F(x) = (e^(x/B) - 1) / (e - 1), so x = B ln(1 + u (e - 1))
// for u uniform in (0, 1), truncated to whole ns. One draw per iteration: the
// constructor draws the first threshold, every update() the next.
//
// Seed: Policy::seed() reseeds (and redraws the pending threshold); the
// engine calls it per context and replication (sim/simulation.cpp, stream 4).
#include <algorithm>
#include <cmath>

#include "policies/policies.h"
#include "sim/rng.h"

namespace pollsim {
namespace {

constexpr uint64_t kDefaultSeed = 0x5ca1ab1e5eedULL;

class SkiRentalRandomPolicy : public Policy {
public:
    explicit SkiRentalRandomPolicy(int64_t b) : b_(b), rng_(kDefaultSeed) { draw(); }
    int64_t poll_ns() const override { return t_; }
    void update(int64_t, std::span<const int>, std::span<const uint8_t>, PolicyCounters&) override { draw(); }
    void seed(uint64_t s) override {
        rng_.reseed(s);
        draw();
    }

private:
    void draw() {
        if (b_ == 0) {
            t_ = 0;
            return;
        }
        const double e = std::exp(1.0);
        const double x = static_cast<double>(b_) * std::log1p(rng_.uniform() * (e - 1.0));
        t_ = std::min(b_, static_cast<int64_t>(x));  // x <= B up to rounding
    }

    int64_t b_;
    Rng rng_;
    int64_t t_ = 0;
};

}  // namespace

std::unique_ptr<Policy> make_ski_rental_random_policy(const PolicyParams& p) {
    return std::make_unique<SkiRentalRandomPolicy>(p.poll_max_ns);
}

}  // namespace pollsim
