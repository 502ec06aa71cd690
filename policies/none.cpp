// "none": never busy-poll; every iteration goes straight to the wait phase.
// The baseline against which polling CPU is judged.
#include "policies/policies.h"

namespace pollsim {
namespace {

class NonePolicy : public Policy {
public:
    int64_t poll_ns() const override { return 0; }
    void update(int64_t, std::span<const int>, std::span<const uint8_t>, PolicyCounters&) override {}
};

}  // namespace

std::unique_ptr<Policy> make_none_policy(const PolicyParams&) {
    return std::make_unique<NonePolicy>();
}

}  // namespace pollsim
