// One IOThread's AioContext: its handlers, poll list and the event-loop
// iteration of DESIGN §3, advanced one step per scheduled event.
#pragma once
#include <cstdint>
#include <limits>
#include <functional>
#include <memory>
#include <queue>
#include <vector>

#include "sim/fifo.h"
#include "sim/index_set.h"
#include "sim/policy.h"
#include "sim/profile.h"
#include "sim/request.h"
#include "sim/rng.h"
#include "sim/small_vec.h"
#include "sim/stats.h"

namespace pollsim {

inline constexpr int64_t kNever = std::numeric_limits<int64_t>::max();

// What a context needs from the rest of the simulation.
class ContextHost {
public:
    virtual ~ContextHost() = default;
    // A new step supersedes the context's previous one.
    virtual void schedule_step(int ctx, int64_t t_ns, uint64_t generation) = 0;
    // The context has no step until it schedules one (a host that keeps
    // superseded steps may ignore this: their stale generation drops them).
    virtual void cancel_step(int ctx) {}
    // A vq dispatch handed these requests to the backend (now).
    virtual void to_backend(int32_t request_id) = 0;
    // A cq dispatch completed this request for the guest (now).
    virtual void to_guest(int32_t request_id) = 0;
    virtual int32_t request_device(int32_t request_id) const = 0;
    // How long after its deadline the recording completed this request
    // (IoRequest::recorded_latency_ns less its service), or -1 if unknown.
    virtual int64_t request_recorded_wake_ns(int32_t request_id) const { return -1; }
    // The future, for a clairvoyant policy (open loop only): the next planned
    // arrival on one of context ctx's virtqueues (its handler in `handler`),
    // and the earliest backend completion of ctx's requests in service.
    // kNever if none is known.
    virtual int64_t next_arrival_ns(int ctx, int& handler) const { return kNever; }
    virtual int64_t next_completion_ns(int ctx) const { return kNever; }
};

// One cache line each (64 bytes, aligned): a dispatch touches one line.
struct alignas(64) Handler {
    // notifier: the AioContext's own event notifier (timer-notify).
    enum class Kind : uint8_t { vq, cq, notifier };
    Kind kind = Kind::vq;
    bool notified = false;          // notifier: aio_notify() was called and not yet accepted
    bool in_poll_list = false;
    bool kick_outstanding = false;  // vq: guest kicked and the fd is not cleared yet
    int poll_pos = -1;              // index in the poll list
    int64_t last_dispatch_ns = 0;
    int64_t fd_ready_ns = kNever;   // when its fd is (or becomes) readable
    Fifo<int32_t, 4> pending;       // vq: submitted requests; cq: completions to reap (the first 4 inline)

    bool has_work() const { return !pending.empty() || notified; }
};
static_assert(sizeof(Handler) == 64, "a handler, its first pending requests included, is one cache line");

// Cache-line aligned: with many IOThreads each context's state is out of L1
// by the time its next event comes, so the lines it spans are what it costs.
class alignas(64) AioContext {
public:
    AioContext(int index, int n_vq, const Profile& profile, std::unique_ptr<Policy> policy,
               int64_t poll_max_ns, double near_max_fraction, Window window, ContextHost& host, uint64_t seed);

    void start(int64_t now_ns);
    // The step scheduled with `generation` fired.
    void on_step(int64_t now_ns, uint64_t generation);
    // The guest placed a request on vq `handler` (DESIGN §4: kick if notifications are on).
    void guest_submit(int handler, int32_t request_id, int64_t now_ns);
    // The backend completed a request of this context.
    void backend_complete(int32_t request_id, int64_t now_ns);
    // timer-completions: a dispatch armed a completion timer for `deadline_ns`
    // (its backend_complete comes at that instant).
    void arm_timer(int64_t deadline_ns);
    // Close the accounting at the end of the run.
    void finish(int64_t end_ns);
    // Writes one line per loop event, named like QEMU's trace events
    // (`pollsim validate --sim-log`), so a simulated loop reads beside a
    // recorded one. nullptr: off.
    void set_trace(std::FILE* out) { trace_ = out; }
    // Give the policy a WaitOutlook at every iteration (clairvoyant policies).
    void foresee_waits() { foresee_ = true; }

    // A request this context completed reached the guest.
    void record_guest_completion(const IoRequest& req, int64_t now_ns) {
        if (!window_.contains(now_ns)) return;
        ++stats_.completed;
        stats_.bytes += req.bytes;
        stats_.latency_ns.add(now_ns - req.t_sub_ns);
    }
    // Guest vCPU time for this IOThread's completions (guest-vcpus).
    void charge_guest(int64_t from_ns, int64_t to_ns, bool halt_poll) {
        charge(halt_poll ? stats_.guest_halt_poll_ns : stats_.guest_vcpu_ns, from_ns, to_ns);
    }
    const ContextStats& stats() const { return stats_; }
    // Asks for the lines nearly every step reads, ahead of a step: the
    // first three, which hold the members up to dispatch_index_ (below).
    void prefetch() const {
        const auto* p = reinterpret_cast<const char*>(this);
        __builtin_prefetch(p);
        __builtin_prefetch(p + 64);
        __builtin_prefetch(p + 128);
    }
    int cq_handler() const { return cq_; }

private:
    enum class Phase : uint8_t { idle, polling, final_check, syscall, sleeping, waking, dispatching, timers, timer_due, entering };

    // DESIGN §3, one function per step.
    void begin_iteration();
    void choose_poll_or_wait();
    void remove_idle_poll_handlers();
    void start_poll_phase(int64_t poll_ns);
    void end_poll_phase();
    void begin_wait_phase();
    void after_final_check();
    void after_syscall();
    void wake_up();
    void begin_dispatch();
    void dispatch_next();
    void finish_handler_dispatch();
    void dispatch_timers_only();
    int64_t timer_wakeup_ns();
    void notify_accept();
    int64_t completion_cost_ns();
    void run_timers();
    void finish_timers();
    void finish_iteration();

    // Helpers.
    WaitOutlook wait_outlook() const;
    // Handler state changes that the sets below follow.
    void add_pending(int handler, int32_t request_id);
    void set_notified(bool notified);
    void set_fd_ready(int handler, int64_t ready_ns);
    void new_work(int handler, int64_t t_ns);
    void fd_became_ready(int64_t ready_ns);
    bool poll_list_has_work() const;
    void collect_poll_visible();
    void collect_fd_readable();
    int64_t earliest_fd_ready() const;
    // The nearest armed completion timer (timer-completions), kNever if none.
    int64_t next_deadline() const { return timer_deadlines_.empty() ? kNever : timer_deadlines_.top(); }
    // When the loop next has a timer to run: 0 (already) if one fired and
    // waits to be run, else the nearest armed deadline.
    int64_t timer_due_ns() const { return expired_.empty() ? next_deadline() : 0; }
    void join_poll_list(int handler);
    void schedule(int64_t t_ns);
    void charge(int64_t& bucket, int64_t from_ns, int64_t to_ns) { bucket += window_.clip(from_ns, to_ns); }
    void close_poll_interval(int64_t until_ns);
    bool notifications_off(const Handler& h) const { return polling_mode_ && h.in_poll_list; }

    // Members in the order a step touches them: the state nearly every step
    // reads or writes comes first, on the object's first lines, and the
    // small lists are held inline (SmallVec) instead of in allocations of
    // their own. With 32 IOThreads a context's lines are out of L1 by the
    // time its next event comes, so every line it spans is a miss.
    // prefetch() asks for the first three lines: keep the hottest there.
    uint64_t generation_ = 0;
    int64_t now_ns_ = 0;
    int64_t scheduled_ns_ = kNever;
    Phase phase_ = Phase::idle;
    bool polling_mode_ = false;     // notifications of poll-list vqs are off
    bool iter_in_window_ = false;
    bool vq_dispatched_ = false;    // this iteration dispatched a virtqueue
    bool armed_earliest_ = false;   // ... and armed a timer that became the earliest
    bool skip_next_poll_ = false;   // dispatch-poll-gate
    bool dispatching_vq_ = false;   // the handler being dispatched is a vq (kept here: no look-up when it ends)
    bool interval_open_ = false;
    bool foresee_ = false;
    std::FILE* trace_ = nullptr;
    ContextHost& host_;
    const Profile& profile_;
    const Window window_;
    Rng rng_;

    // Current iteration.
    int64_t iter_start_ns_ = 0;
    int64_t iter_poll_ns_ = 0;  // T
    int64_t poll_start_ns_ = 0;
    int64_t spin_ns_ = 1;
    int64_t poll_spins_ = 0;  // spins from poll_start_ns_ to the phase's scheduled end (no division there)
    int64_t block_ns_ = 0;
    size_t dispatch_index_ = 0;
    // timer-completions: armed deadlines, and requests whose timer fired and
    // that the loop has not completed yet (every dispatch looks at expired_).
    std::priority_queue<int64_t, std::vector<int64_t>, std::greater<>> timer_deadlines_;
    std::vector<int32_t> expired_;

    std::vector<Handler> handlers_;  // vqs by device and queue index, the cq, then (timer-notify) the notifier
    int cq_ = 0;
    int notifier_ = -1;              // timer-notify only
    const int index_;
    std::unique_ptr<Policy> policy_;
    IndexSet with_work_;             // handlers whose has_work() holds
    IndexSet fd_armed_;              // handlers whose fd_ready_ns is not kNever
    SmallVec<int, 8> dispatch_list_;
    SmallVec<int32_t, 16> in_flight_;  // requests taken by the handler being dispatched
    SmallVec<int, 8> poll_list_;
    SmallVec<uint8_t, 8> dispatched_;  // parallel to poll_list_
    int64_t next_idle_check_ns_ = kNever;
    uint64_t batch_stamp_ = 0;
    std::vector<uint64_t> device_stamp_;  // per device: the last completion batch that had it
    const int64_t poll_max_ns_;
    const double near_max_fraction_;

    alignas(64) ContextStats stats_;  // its counters in as few lines as they fill
    // Inline so that the hot path pays one test when tracing is off.
    void trace(const char* event, const char* fmt = "", int64_t a = 0, int64_t b = 0) const {
        if (trace_) write_trace(event, fmt, a, b);
    }
    void write_trace(const char* event, const char* fmt, int64_t a, int64_t b) const;
};

}  // namespace pollsim
