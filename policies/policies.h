// Factories of the policies in this directory (registry.cpp lists them), and
// the pieces two policies share.
#pragma once
#include <cstdint>
#include <limits>
#include <memory>

#include "sim/policy.h"

namespace pollsim {

std::unique_ptr<Policy> make_legacy_global_policy(const PolicyParams& p);
std::unique_ptr<Policy> make_legacy_policy(const PolicyParams& p);
std::unique_ptr<Policy> make_weighted_policy(const PolicyParams& p);
std::unique_ptr<Policy> make_fixed_policy(const PolicyParams& p);
std::unique_ptr<Policy> make_none_policy(const PolicyParams& p);
std::unique_ptr<Policy> make_ski_rental_policy(const PolicyParams& p);
std::unique_ptr<Policy> make_ski_rental_random_policy(const PolicyParams& p);
std::unique_ptr<Policy> make_kvm_halt_poll_policy(const PolicyParams& p);
std::unique_ptr<Policy> make_haltpoll_policy(const PolicyParams& p);
std::unique_ptr<Policy> make_oracle_policy(const PolicyParams& p);

// The break-even time B of ski-rental and ski-rental-random when poll-max-ns
// is not given: the CPU one sleep costs in the embedded default set-up
// (configs/default.yaml on configs/profiles/s390x-fcp.yaml): the final check
// of its 2 poll-list handlers (1 vq + cq) 2 * 30 + syscall 2000 + wakeup CPU
// 3000 = 5060 ns. A test recomputes it from the profile.
constexpr int64_t kSkiRentalDefaultB = 5060;

// QEMU computes ns * grow and h.ns + block_ns in plain int64 and would
// overflow with a huge poll-max-ns; we saturate at INT64_MAX instead, which
// the following min(.., max) then caps. Operands are non-negative.
inline int64_t saturating_mul(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? std::numeric_limits<int64_t>::max() : r;
}
inline int64_t saturating_add(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? std::numeric_limits<int64_t>::max() : r;
}

// The grow/shrink rule of QEMU's adjust_polling_time() (DESIGN §5,
// legacy-global), applied to one value; legacy applies it per handler.
// Counts one update, plus the branch taken and whether the value ended at 0.
void adjust_polling_time(int64_t& ns, int64_t block_ns, const PolicyParams& p,
                         PolicyCounters& counters);

}  // namespace pollsim
