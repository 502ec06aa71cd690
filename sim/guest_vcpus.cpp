#include "sim/guest_vcpus.h"

#include <algorithm>

#include "sim/profile.h"

namespace pollsim {

int guest_vcpu_count(const Profile& profile) { return static_cast<int>(std::max<int64_t>(1, profile.guest_vcpus)); }

GuestVcpus::GuestVcpus(const Profile& profile, uint64_t seed, Host& host)
    : wakeup_latency_ns_(profile.guest_wakeup_latency_ns),
      complete_ns_(profile.guest_complete_ns),
      halt_poll_ns_(profile.guest_halt_poll_ns),
      host_(host),
      vcpus_(static_cast<size_t>(guest_vcpu_count(profile))) {
    for (size_t i = 0; i < vcpus_.size(); ++i) {
        vcpus_[i].wakeup_rng = Rng(seed, 0, i);
        vcpus_[i].complete_rng = Rng(seed, 1, i);
    }
}

void GuestVcpus::interrupt(int32_t request_id, int device, int64_t now_ns) {
    const int vcpu = vcpu_of(device);
    Vcpu& v = vcpus_[vcpu];
    v.pending.push(request_id);
    if (v.running) return;  // a busy vCPU takes it after the ones before
    v.running = true;
    // A halted vCPU: KVM polls for halt_poll_ns first (host CPU), and only
    // an interrupt after that window pays the full wake-up.
    const int64_t idle_ns = now_ns - v.idle_since_ns;
    const int64_t polled_ns = std::min(idle_ns, halt_poll_ns_);
    if (polled_ns > 0) host_.charge_vcpu(request_id, v.idle_since_ns, v.idle_since_ns + polled_ns, true);
    const int64_t start_ns = idle_ns > halt_poll_ns_ ? now_ns + wakeup_latency_ns_.sample(v.wakeup_rng) : now_ns;
    start_next(v, vcpu, start_ns);
}

void GuestVcpus::on_done(int vcpu, int64_t now_ns) {
    Vcpu& v = vcpus_[vcpu];
    host_.complete_for_guest(v.pending.pop());
    if (v.pending.empty()) {
        v.running = false;
        v.idle_since_ns = now_ns;
    } else {
        start_next(v, vcpu, now_ns);
    }
}

void GuestVcpus::start_next(Vcpu& v, int vcpu, int64_t start_ns) {
    const int64_t done_ns = start_ns + complete_ns_.sample(v.complete_rng);
    host_.charge_vcpu(v.pending.front(), start_ns, done_ns, false);
    host_.schedule_vcpu(vcpu, done_ns);
}

}  // namespace pollsim
