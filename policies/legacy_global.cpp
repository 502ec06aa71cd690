// "legacy-global": one poll time for the whole AioContext, as in QEMU before
// 10.0 (ctx->poll_ns adjusted at the end of every aio_poll()).
#include <algorithm>

#include "policies/policies.h"

namespace pollsim {

void adjust_polling_time(int64_t& ns, int64_t block_ns, const PolicyParams& p,
                         PolicyCounters& counters) {
    const int64_t max_ns = p.poll_max_ns;
    ++counters.updates;
    if (block_ns <= ns) {
        // The sweet spot: polling would have covered this wait.
    } else if (block_ns > max_ns) {
        // Polling long enough would cost more than poll-max-ns: back off.
        // This branch is counted even when ns was already 0 (QEMU traces
        // poll_shrink there too).
        ns = p.poll_shrink ? ns / p.poll_shrink : 0;
        ++counters.shrinks;
    } else if (ns < max_ns && block_ns < max_ns) {
        // Room to grow; QEMU starts polling at 4 us.
        const int64_t grow = p.poll_grow ? p.poll_grow : 2;
        ns = ns ? saturating_mul(ns, grow) : 4000;
        ns = std::min(ns, max_ns);
        ++counters.grows;
    }
    if (ns == 0) ++counters.resets;
}

namespace {

class LegacyGlobalPolicy : public Policy {
public:
    explicit LegacyGlobalPolicy(const PolicyParams& p) : params_(p) {}

    int64_t poll_ns() const override { return ns_; }

    void update(int64_t block_ns, std::span<const int>, std::span<const uint8_t>,
                PolicyCounters& counters) override {
        // poll-max-ns 0 disables polling altogether (QEMU skips the adjustment).
        if (params_.poll_max_ns == 0) return;
        adjust_polling_time(ns_, block_ns, params_, counters);
    }

private:
    PolicyParams params_;
    int64_t ns_ = 0;
};

}  // namespace

std::unique_ptr<Policy> make_legacy_global_policy(const PolicyParams& p) {
    return std::make_unique<LegacyGlobalPolicy>(p);
}

}  // namespace pollsim
