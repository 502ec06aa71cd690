// "legacy": QEMU 10.0 to 11.0. Each poll-list handler keeps its own poll time,
// adjusted by adjust_polling_time() whenever that handler is dispatched; the
// context polls for the largest of them (try_poll_mode()).
#include <algorithm>
#include <vector>

#include "policies/policies.h"

namespace pollsim {
namespace {

class LegacyPolicy : public Policy {
public:
    explicit LegacyPolicy(const PolicyParams& p) : params_(p) {}

    int64_t poll_ns() const override { return poll_ns_; }

    void handler_joined(int handler) override { reset(handler); }

    // A handler that left must no longer hold up the maximum; zeroing it is
    // enough because only poll-list handlers can be non-zero.
    void handler_left(int handler) override {
        reset(handler);
        recompute_poll_ns();
    }

    void update(int64_t block_ns, std::span<const int> poll_list,
                std::span<const uint8_t> dispatched, PolicyCounters& counters) override {
        if (params_.poll_max_ns == 0) return;  // never polls: every h.ns stays 0
        for (size_t i = 0; i < poll_list.size(); ++i) {
            if (!dispatched[i]) continue;
            ensure(poll_list[i]);
            adjust_polling_time(ns_[poll_list[i]], block_ns, params_, counters);
        }
        recompute_poll_ns();
    }

    std::optional<int64_t> handler_ns(int handler) const override {
        return handler >= 0 && static_cast<size_t>(handler) < ns_.size() ? ns_[handler] : 0;
    }

private:
    void ensure(int handler) {
        if (static_cast<size_t>(handler) >= ns_.size()) ns_.resize(handler + 1, 0);
    }
    void reset(int handler) {
        ensure(handler);
        ns_[handler] = 0;
    }
    // Cached so that poll_ns(), called every iteration, stays O(1).
    void recompute_poll_ns() { poll_ns_ = ns_.empty() ? 0 : *std::max_element(ns_.begin(), ns_.end()); }

    PolicyParams params_;
    std::vector<int64_t> ns_;  // indexed by handler id
    int64_t poll_ns_ = 0;
};

}  // namespace

std::unique_ptr<Policy> make_legacy_policy(const PolicyParams& p) {
    return std::make_unique<LegacyPolicy>(p);
}

}  // namespace pollsim
