// "haltpoll": the guest-side cpuidle-haltpoll governor, the rule of
// adjust_poll_limit() as haltpoll_reflect() applies it, in Linux
// drivers/cpuidle/governors/haltpoll.c (torvalds/linux commit 9f4813b531a0).
// The rule only, written from its description; no kernel code is copied.
//
// Parameters and their defaults in that source (module parameters):
//   guest_halt_poll_ns           -> poll-max-ns        200000
//   guest_halt_poll_grow         -> poll-grow          2
//   guest_halt_poll_shrink       -> poll-shrink        2  (0 resets)
//   guest_halt_poll_grow_start   -> poll-grow-start    50000
//   guest_halt_poll_allow_shrink -> poll-allow-shrink  1  (true)
// poll-grow 0 is taken literally as in the source: the grown value 0 is then
// raised to grow_start.
//
// The rule, with L the per-CPU poll limit (dev->poll_limit_ns, starts at 0)
// and b the residency of the halt state: only after a halt (the poll window
// passed with no event; a poll that found work changes nothing):
//   L < b <= max:                 L = L * grow, at least grow_start, at most max
//   b > max and allow_shrink:     L = shrink ? L / shrink : 0
//
// Mapping onto the AioContext loop: one value per context (haltpoll: per
// CPU); the poll window is the poll phase, the halt is everything after it.
// The policy sees only block_ns, so it takes "the iteration went past its poll
// window" (block_ns > L) for "the CPU halted" and b = block_ns - L for the
// halt residency. Approximate: a poll phase ends at a spin boundary, so a
// poll that found work can end up to one spin past L and count as a halt of
// under one spin (harmless: that b is neither > L for any L of a spin or more,
// nor > max); a wait whose final check found work counts as a short halt; the
// 2019 source measured residency in whole microseconds, this in ns.
#include <algorithm>

#include "policies/policies.h"

namespace pollsim {
namespace {

class HaltpollPolicy : public Policy {
public:
    explicit HaltpollPolicy(const PolicyParams& p)
        : max_(p.poll_max_ns),
          grow_(p.poll_grow),
          shrink_(p.poll_shrink),
          grow_start_(p.poll_grow_start),
          allow_shrink_(p.poll_allow_shrink != 0) {}

    int64_t poll_ns() const override { return limit_; }

    void update(int64_t block_ns, std::span<const int>, std::span<const uint8_t>,
                PolicyCounters& counters) override {
        if (max_ == 0) return;              // never polls: the limit stays 0
        if (block_ns <= limit_) return;     // the poll state saw the event: no adjustment
        const int64_t residency = block_ns - limit_;
        ++counters.updates;
        if (residency > limit_ && residency <= max_) {
            limit_ = std::min(std::max(saturating_mul(limit_, grow_), grow_start_), max_);
            ++counters.grows;
        } else if (residency > max_ && allow_shrink_) {
            limit_ = shrink_ ? limit_ / shrink_ : 0;
            ++counters.shrinks;
        }
        if (limit_ == 0) ++counters.resets;
    }

private:
    int64_t max_, grow_, shrink_, grow_start_;
    bool allow_shrink_;
    int64_t limit_ = 0;
};

}  // namespace

std::unique_ptr<Policy> make_haltpoll_policy(const PolicyParams& p) {
    return std::make_unique<HaltpollPolicy>(p);
}

}  // namespace pollsim
