// "fixed": always busy-poll for poll-max-ns, with no adaptation. The upper
// bound on polling CPU (and the best case for latency) at a given budget.
#include "policies/policies.h"

namespace pollsim {
namespace {

class FixedPolicy : public Policy {
public:
    explicit FixedPolicy(int64_t max_ns) : max_ns_(max_ns) {}
    int64_t poll_ns() const override { return max_ns_; }
    void update(int64_t, std::span<const int>, std::span<const uint8_t>, PolicyCounters&) override {}

private:
    int64_t max_ns_;
};

}  // namespace

std::unique_ptr<Policy> make_fixed_policy(const PolicyParams& p) {
    return std::make_unique<FixedPolicy>(p.poll_max_ns);
}

}  // namespace pollsim
