// "kvm-halt-poll": KVM's host-side halt polling, the rule of kvm_vcpu_halt()
// with grow_halt_poll_ns() and shrink_halt_poll_ns() in Linux
// virt/kvm/kvm_main.c (read in linux-next, ColinIanKing/linux-next commit
// 03b9d3141510; the torvalds/linux copy at f0161aad4725 has the older form
// with the 10 us start hard-coded and shrink defaulting to 0 = reset). The
// rule only, written from its description; no kernel code is copied.
//
// Parameters and their defaults in that source:
//   halt_poll_ns            -> poll-max-ns      KVM_HALT_POLL_NS_DEFAULT, 50000 on
//                              s390 (arch/s390/include/asm/kvm_host.h, torvalds/linux
//                              0150da6be1c7; x86 has 200000, arm64 500000)
//   halt_poll_ns_grow       -> poll-grow        2  ("Default doubles")
//   halt_poll_ns_grow_start -> poll-grow-start  10000 ("10us")
//   halt_poll_ns_shrink     -> poll-shrink      2  ("Default halves"; 0 resets)
//
// The rule, with h the poll time (vcpu->halt_poll_ns, starts at 0) and
// block_ns the halt's whole length, polling included:
//   max == 0:                          h = 0
//   block_ns <= h:                     nothing
//   h != 0 and block_ns > max:         shrink: h = shrink ? h / shrink : 0;
//                                      then h = 0 if h < grow_start
//   h < max and block_ns < max:        grow (if grow != 0): h = h * grow,
//                                      at least grow_start, at most max
// KVM caps h at max when the next halt starts rather than in grow; with a
// fixed max that is the same value, so it is capped here at once.
//
// Mapping onto the AioContext loop: one value per context (KVM: per vCPU);
// KVM's halt_ns (poll + block + wake) is the iteration's block_ns, which
// likewise spans poll phase, final check, syscall, sleep, wake-up latency and
// wake-up CPU. Approximate: KVM's shrink on an invalid wakeup
// (vcpu_valid_wakeup()) has no counterpart, every wakeup here brings work;
// KVM stops polling early when another task wants the CPU
// (kvm_vcpu_can_poll()), while an IOThread has its CPU to itself here; KVM
// computes in 32-bit unsigned, this in saturating int64.
#include <algorithm>

#include "policies/policies.h"

namespace pollsim {
namespace {

class KvmHaltPollPolicy : public Policy {
public:
    explicit KvmHaltPollPolicy(const PolicyParams& p)
        : max_(p.poll_max_ns), grow_(p.poll_grow), shrink_(p.poll_shrink), grow_start_(p.poll_grow_start) {}

    int64_t poll_ns() const override { return ns_; }

    void update(int64_t block_ns, std::span<const int>, std::span<const uint8_t>,
                PolicyCounters& counters) override {
        if (max_ == 0) {  // halt polling disabled
            ns_ = 0;
            return;
        }
        ++counters.updates;
        if (block_ns <= ns_) {
            // The poll covered the halt.
        } else if (ns_ != 0 && block_ns > max_) {
            // A long halt: polling cannot pay, shrink (below grow_start: off).
            int64_t v = shrink_ ? ns_ / shrink_ : 0;
            if (v < grow_start_) v = 0;
            ns_ = v;
            ++counters.shrinks;
        } else if (ns_ < max_ && block_ns < max_) {
            // A short halt the poll missed: grow.
            if (grow_ != 0) ns_ = std::min(std::max(saturating_mul(ns_, grow_), grow_start_), max_);
            ++counters.grows;
        }
        if (ns_ == 0) ++counters.resets;
    }

private:
    int64_t max_, grow_, shrink_, grow_start_;
    int64_t ns_ = 0;
};

}  // namespace

std::unique_ptr<Policy> make_kvm_halt_poll_policy(const PolicyParams& p) {
    return std::make_unique<KvmHaltPollPolicy>(p);
}

}  // namespace pollsim
