// "oracle": the offline optimum of each wait, the adversary ski-rental is
// measured against (README "Policy lab"), made runnable. It knows when work
// next becomes visible to a poll (WaitOutlook, open-loop arrivals only) and
// for each wait takes the cheaper of the two moves an offline player has:
//   poll exactly until the work: cost g, the gap, in poll CPU;
//   sleep at once:               cost S = sleep CPU (final check + syscall +
//                                wakeup CPU) + latency_weight x wakeup latency.
// So T = g if g <= S, else 0; the wait costs min(g, S). With no work known
// ahead it sleeps. Costs are the profile's means: the wakeup latency of this
// very wait is drawn only when it happens, so the oracle minimises the
// expected cost of each wait, and its poll ends at the spin boundary at or
// after the work (up to one spin more than g), as every poll does.
//
// What it is not: the optimum over whole runs. Each wait is decided alone; a
// sleep that lets more work pile up for one dispatch, or a poll that changes
// when requests reach the backend, can shift later gaps. The tests check that
// no policy beats it on the committed open-loop workloads.
#include "policies/policies.h"

namespace pollsim {
namespace {

class OraclePolicy : public Policy {
public:
    explicit OraclePolicy(double latency_weight) : latency_weight_(latency_weight) {}
    int64_t poll_ns() const override { return poll_ns_; }
    // Nothing to learn: every decision comes from foresee().
    void update(int64_t, std::span<const int>, std::span<const uint8_t>, PolicyCounters&) override {}
    void foresee(const WaitOutlook& o) override {
        const double sleep_cost = static_cast<double>(o.sleep_cpu_ns) +
                                  latency_weight_ * static_cast<double>(o.wakeup_latency_ns);
        const int64_t gap = o.next_work_visible_ns;
        poll_ns_ = gap >= 0 && static_cast<double>(gap) <= sleep_cost ? gap : 0;
    }

private:
    double latency_weight_;
    int64_t poll_ns_ = 0;
};

}  // namespace

std::unique_ptr<Policy> make_oracle_policy(const PolicyParams& p) {
    return std::make_unique<OraclePolicy>(p.latency_weight);
}

}  // namespace pollsim
