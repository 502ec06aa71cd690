// Optional parts of the engine beyond DESIGN.md §3-7 (DESIGN §9): each has a
// name and a switch. A profile lists the ones its host has (`mechanisms:`),
// a config may replace that list (`mechanisms: [...]`, `--set
// 'mechanisms=[]'`), and with none enabled the engine is exactly DESIGN §3-7.
// Each mechanism's evidence is in the README ("Mechanisms beyond DESIGN.md").
#pragma once
#include <string>
#include <vector>

namespace pollsim {

struct Mechanisms {
    // Backend completions are timers in the IOThread's own AioContext, as
    // QEMU's null-aio driver with latency-ns arms them (block/null.c): the
    // nearest deadline caps the poll budget and the wait (aio_compute_timeout),
    // an expired timer skips both, and expired timers complete their requests
    // after dispatch (timerlistgroup_run_timers) instead of through the cq
    // handler's fd.
    bool timer_completions = false;
    // The AioContext's own notifier is on the poll list from start-up, and
    // arming a timer that becomes the earliest calls aio_notify()
    // (timerlist_rearm() in util/qemu-timer.c): the next iteration's poll
    // phase ends at its first spin without progress (the notifier is ready,
    // the timeout drops to 0), or, without a poll phase, its wait is
    // skipped. The notifier is a poll-list handler like any other, so the
    // per-handler policies update its poll time when it is dispatched.
    bool timer_notify = false;
    // Measured in QEMU 11.1's logs, cause not found in its sources: after
    // an iteration that dispatched a virtqueue, the next iteration polls
    // only if that dispatch armed the earliest timer (the case that calls
    // aio_notify()); otherwise it goes straight to the wait.
    bool dispatch_poll_gate = false;
    // The guest's vCPUs (sim/guest_vcpus.h): a completion reaches the guest
    // as an interrupt on the vCPU that owns its device; a halted vCPU first
    // wakes up (guest_wakeup_latency_ns, unless it halted less than
    // guest_halt_poll_ns ago: KVM's halt polling), then works through its
    // completions one at a time (guest_complete_ns each: interrupt, fio's
    // reap and its next submission). The guest, not only the IOThread, can
    // then bound throughput, and the submissions one interrupt causes reach
    // the virtqueue as a burst.
    bool guest_vcpus = false;
};

struct MechanismOps {
    const char* name;
    const char* help;
    bool Mechanisms::*flag;
};

const std::vector<MechanismOps>& mechanism_table();
std::string mechanism_names();
// Throws std::invalid_argument naming an unknown or repeated mechanism.
Mechanisms resolve_mechanisms(const std::vector<std::string>& names);
// The enabled names in table order.
std::vector<std::string> mechanism_list(const Mechanisms& m);

}  // namespace pollsim
