// "weighted": QEMU 11.1. Each handler keeps an exponentially weighted estimate
// of the time between its events (update_handler_poll_times()); the context
// grows towards the largest estimate among the handlers that just had events
// and shrinks when all of them fall well below it (adjust_polling_time()).
#include <algorithm>
#include <vector>

#include "policies/policies.h"

namespace pollsim {
namespace {

class WeightedPolicy : public Policy {
public:
    // Zero grow, shrink and weight select QEMU's built-in 2, 2 and 3.
    explicit WeightedPolicy(const PolicyParams& p)
        : max_ns_(p.poll_max_ns),
          grow_(p.poll_grow ? p.poll_grow : 2),
          shrink_(p.poll_shrink ? p.poll_shrink : 2),
          weight_(p.poll_weight ? p.poll_weight : 3) {}

    int64_t poll_ns() const override { return ns_; }

    void handler_joined(int handler) override {
        ensure(handler);
        h_ns_[handler] = 0;
    }

    void update(int64_t block_ns, std::span<const int> poll_list,
                std::span<const uint8_t> dispatched, PolicyCounters& counters) override {
        if (max_ns_ == 0) return;  // never polls: every h.ns stays 0
        const int64_t best = update_handler_poll_times(block_ns, poll_list, dispatched, counters);
        // best < 0: no poll-list handler had an event, so there is no evidence
        // to grow or shrink on.
        if (best < 0) return;
        if (best > ns_) {
            ns_ = std::min(std::max(best, saturating_mul(ns_, grow_)), max_ns_);
            ++counters.grows;
        } else if (best < ns_ / shrink_) {
            ns_ /= shrink_;
            ++counters.shrinks;
        }
    }

    std::optional<int64_t> handler_ns(int handler) const override {
        return handler >= 0 && static_cast<size_t>(handler) < h_ns_.size() ? h_ns_[handler] : 0;
    }

private:
    // Returns the largest new estimate among dispatched handlers, -1 if none.
    int64_t update_handler_poll_times(int64_t block_ns, std::span<const int> poll_list,
                                      std::span<const uint8_t> dispatched,
                                      PolicyCounters& counters) {
        int64_t best = -1;
        for (size_t i = 0; i < poll_list.size(); ++i) {
            ensure(poll_list[i]);
            int64_t& h = h_ns_[poll_list[i]];
            if (dispatched[i]) {
                // A fresh handler takes the first sample as is; afterwards the
                // newest sample weighs 2^-w. Both shifts truncate.
                h = h == 0 ? block_ns : saturating_add(h - (h >> weight_), block_ns >> weight_);
                if (h > max_ns_) h = 0;  // too slow to be worth polling for
                best = std::max(best, h);
                ++counters.updates;
                if (h == 0) ++counters.resets;
            } else if (h != 0) {
                // An idle handler's gap keeps growing until it is not worth
                // polling for; aging is not an update in the counters.
                h = saturating_add(h, block_ns);
                if (h > max_ns_) h = 0;
            }
        }
        return best;
    }

    void ensure(int handler) {
        if (static_cast<size_t>(handler) >= h_ns_.size()) h_ns_.resize(handler + 1, 0);
    }

    int64_t max_ns_, grow_, shrink_, weight_;
    int64_t ns_ = 0;              // the context's poll time
    std::vector<int64_t> h_ns_;   // per handler id
};

}  // namespace

std::unique_ptr<Policy> make_weighted_policy(const PolicyParams& p) {
    return std::make_unique<WeightedPolicy>(p);
}

}  // namespace pollsim
