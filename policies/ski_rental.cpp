// "ski-rental": the deterministic break-even rule of the ski-rental problem
// (Karlin, Manasse, Rudolph, Sleator 1988, "Competitive snoopy caching"; as
// spin-then-block: Karlin, Li, Manasse, Owicki 1991). Every wait
// polls for B, the cost of going to sleep, and then sleeps: if the work comes
// within B the poll paid at most what sleeping would have; if not, the wait
// costs B + B, at most twice the optimum min(gap, B) (2-competitive).
//
// B reaches the policy as poll-max-ns, the one budget QEMU's properties
// already carry through configs, --set, --iothread and sweeps; the policy
// interface sees no profile, so the default is the sleep CPU cost of the
// embedded default set-up (kSkiRentalDefaultB, 5060 ns on s390x-fcp). Set
// poll-max-ns to final check + syscall_ns + wakeup_cpu_ns of another profile.
//
// Mapping onto the AioContext loop: a "wait" is one iteration; its gap is the
// time from the iteration's start until work becomes visible. Approximate:
// the engine ends a poll phase at a spin boundary, so a poll covers up to one
// spin past B, and a poll that finds work also saves the wakeup latency,
// which this CPU-only break-even ignores.
#include "policies/policies.h"

namespace pollsim {
namespace {

class SkiRentalPolicy : public Policy {
public:
    explicit SkiRentalPolicy(int64_t b) : b_(b) {}
    int64_t poll_ns() const override { return b_; }
    // Deterministic and memoryless: nothing to learn from block_ns.
    void update(int64_t, std::span<const int>, std::span<const uint8_t>, PolicyCounters&) override {}

private:
    int64_t b_;
};

}  // namespace

std::unique_ptr<Policy> make_ski_rental_policy(const PolicyParams& p) {
    return std::make_unique<SkiRentalPolicy>(p.poll_max_ns);
}

}  // namespace pollsim
