// Raw counters of one IOThread over one replication's measurement window.
// metrics.cpp turns them into the reported metrics.
#pragma once
#include <algorithm>
#include <cstdint>

#include "sim/histogram.h"
#include "sim/policy.h"

namespace pollsim {

// The measurement window [begin_ns, end_ns): everything is clipped to it.
struct Window {
    int64_t begin_ns = 0;
    int64_t end_ns = 0;
    bool contains(int64_t t) const { return t >= begin_ns && t < end_ns; }
    int64_t clip(int64_t a, int64_t b) const { return std::max<int64_t>(0, std::min(b, end_ns) - std::max(a, begin_ns)); }
    int64_t length() const { return end_ns - begin_ns; }
};

struct ContextStats {
    // Busy time by category (DESIGN §6).
    int64_t poll_ns = 0;
    int64_t final_check_ns = 0;
    int64_t syscall_ns = 0;
    int64_t wakeup_ns = 0;
    int64_t dispatch_ns = 0;
    int64_t guest_kick_ns = 0;  // guest vCPU time, reported apart
    // guest-vcpus mechanism: vCPU time taking this IOThread's completions,
    // and host CPU of KVM halt polling that ended in one of them.
    int64_t guest_vcpu_ns = 0;
    int64_t guest_halt_poll_ns = 0;
    // Idle time from an fd becoming readable until the thread runs (the
    // wakeup latency of every sleep): the latency a sleep adds (cost.total).
    int64_t wakeup_latency_ns = 0;
    // Event-loop counts (iterations that started in the window).
    int64_t iterations = 0;
    int64_t poll_phases = 0;
    int64_t poll_successes = 0;
    int64_t spins = 0;
    int64_t waits = 0;     // wait system calls made
    int64_t wakeups = 0;   // sleeps ended by an fd
    int64_t wasted_poll_ns = 0;
    int64_t sum_poll_ns = 0;     // sum of T over iterations
    // What QEMU's run_poll_handlers_begin traces as max_ns: the budget of
    // each poll phase at its start, after any timer cap (`pollsim validate`).
    int64_t sum_poll_max_ns = 0;
    int64_t submitted = 0;       // guest submissions (virtio_blk_handle_* in QEMU's log)
    int64_t near_max_ns = 0;     // time with T >= poll_near_max * poll-max-ns
    PolicyCounters policy;
    // Requests this IOThread completed for the guest.
    int64_t completed = 0;
    int64_t bytes = 0;
    // The histograms after the counters, which then share few cache lines.
    Pow2Histogram poll_max_hist;  // of sum_poll_max_ns's budgets
    Pow2Histogram poll_hist;
    LogLinearHistogram latency_ns;

    int64_t busy_ns() const { return poll_ns + final_check_ns + syscall_ns + wakeup_ns + dispatch_ns; }
};

}  // namespace pollsim
