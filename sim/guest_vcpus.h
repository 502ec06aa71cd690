// The guest's vCPUs, for the guest-vcpus mechanism (sim/mechanisms.h,
// README "Mechanisms beyond DESIGN.md"). DESIGN §4 hands a completion to
// fio the instant the cq dispatch ends; a real guest first takes the
// interrupt on a vCPU, which may be halted (KVM wakes it: tens of µs unless
// halt polling catches the interrupt) or busy with earlier completions.
// Devices go round-robin to vCPUs, as virtio-blk's interrupts are spread.
#pragma once
#include <cstdint>
#include <vector>

#include "sim/dist.h"
#include "sim/fifo.h"
#include "sim/rng.h"

namespace pollsim {

struct Profile;

// How many vCPUs the guest has (a profile's guest_vcpus, at least one).
int guest_vcpu_count(const Profile& profile);

class GuestVcpus {
public:
    // What the vCPUs need from the simulation around them.
    class Host {
    public:
        virtual ~Host() = default;
        virtual void schedule_vcpu(int vcpu, int64_t t_ns) = 0;
        // The guest has taken the completion: fio reaps it and resubmits.
        virtual void complete_for_guest(int32_t request_id) = 0;
        // vCPU busy time spent for a request ([from, to)); halt_poll: the
        // host CPU KVM's halt polling burned before the request's interrupt.
        virtual void charge_vcpu(int32_t request_id, int64_t from_ns, int64_t to_ns, bool halt_poll) = 0;
    };

    GuestVcpus(const Profile& profile, uint64_t seed, Host& host);
    // `seed` is the simulation's guest stream; each vCPU derives its own.
    // A completion interrupt for `request_id` (of `device`) at now_ns.
    void interrupt(int32_t request_id, int device, int64_t now_ns);
    // The vCPU that takes `device`'s interrupts.
    int vcpu_of(int device) const { return device % static_cast<int>(vcpus_.size()); }
    int count() const { return static_cast<int>(vcpus_.size()); }
    // The vCPU's current completion is done at now_ns.
    void on_done(int vcpu, int64_t now_ns);

private:
    struct Vcpu {
        Fifo<int32_t> pending;  // completions taken, oldest first
        bool running = false;
        int64_t idle_since_ns = 0;
        // Apart, so that the k-th completion on a vCPU draws the same time
        // under every policy (common random numbers) however many wake-ups
        // came before it.
        Rng wakeup_rng, complete_rng;
    };
    void start_next(Vcpu& v, int vcpu, int64_t start_ns);

    Dist wakeup_latency_ns_;  // copies: a GuestVcpus may outlive the profile it came from
    Dist complete_ns_;
    int64_t halt_poll_ns_;
    Host& host_;
    std::vector<Vcpu> vcpus_;
};

}  // namespace pollsim
