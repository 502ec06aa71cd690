// The AioContext iteration (DESIGN §3), modelled on aio_poll() in QEMU's
// util/aio-posix.c. Each phase that takes virtual time ends in a scheduled
// step; arrivals in between only change handler state, and may move the end
// of a poll phase or of a sleep earlier.
#include "sim/aio_context.h"

#include <algorithm>
#include <cmath>

namespace pollsim {

AioContext::AioContext(int index, int n_vq, const Profile& profile, std::unique_ptr<Policy> policy,
                       int64_t poll_max_ns, double near_max_fraction, Window window, ContextHost& host,
                       uint64_t seed)
    : host_(host),
      profile_(profile),
      window_(window),
      rng_(seed),
      handlers_(static_cast<size_t>(n_vq) + 1),
      index_(index),
      policy_(std::move(policy)),
      poll_max_ns_(poll_max_ns),
      near_max_fraction_(near_max_fraction) {
    cq_ = n_vq;
    handlers_[cq_].kind = Handler::Kind::cq;
    if (profile_.mechanisms.timer_notify) {
        notifier_ = static_cast<int>(handlers_.size());
        handlers_.emplace_back().kind = Handler::Kind::notifier;
    }
    with_work_.resize(static_cast<int>(handlers_.size()));
    fd_armed_.resize(static_cast<int>(handlers_.size()));
}

void AioContext::write_trace(const char* event, const char* fmt, int64_t a, int64_t b) const {
    std::fprintf(trace_, "%lld.%06lld:%s ctx %d ", static_cast<long long>(now_ns_ / 1'000'000'000),
                 static_cast<long long>(now_ns_ / 1000 % 1'000'000), event, index_);
    std::fprintf(trace_, fmt, static_cast<long long>(a), static_cast<long long>(b));
    std::fputc('\n', trace_);
}

void AioContext::start(int64_t now_ns) {
    now_ns_ = now_ns;
    // QEMU's notifier joins the poll list at start-up (the main thread's
    // first aio_notify(), e.g. setting the poll parameters): every
    // recorded log shows it added before any guest request.
    if (notifier_ >= 0) join_poll_list(notifier_);
    begin_iteration();
}

void AioContext::schedule(int64_t t_ns) {
    scheduled_ns_ = t_ns;
    host_.schedule_step(index_, t_ns, ++generation_);
}

void AioContext::on_step(int64_t now_ns, uint64_t generation) {
    if (generation != generation_) return;  // superseded by an earlier end
    now_ns_ = now_ns;
    scheduled_ns_ = kNever;
    switch (phase_) {
    case Phase::polling: end_poll_phase(); break;
    case Phase::final_check: after_final_check(); break;
    case Phase::syscall: after_syscall(); break;
    case Phase::sleeping: wake_up(); break;
    case Phase::waking: after_syscall(); break;  // the fd that woke us is readable now
    case Phase::dispatching: finish_handler_dispatch(); break;
    case Phase::timers: finish_timers(); break;
    case Phase::timer_due: dispatch_timers_only(); break;
    case Phase::entering: choose_poll_or_wait(); break;
    case Phase::idle: break;
    }
}

// Steps 1-2: a new iteration and its poll budget.
void AioContext::begin_iteration() {
    close_poll_interval(now_ns_);
    remove_idle_poll_handlers();
    iter_start_ns_ = now_ns_;
    if (foresee_) policy_->foresee(wait_outlook());
    iter_poll_ns_ = policy_->poll_ns();
    iter_in_window_ = window_.contains(now_ns_);
    interval_open_ = true;
    if (iter_in_window_) {
        ++stats_.iterations;
        stats_.sum_poll_ns += iter_poll_ns_;
        stats_.poll_hist.add_iteration(iter_poll_ns_);
    }
    const int64_t entry_ns = profile_.iteration_ns.sample(rng_);
    if (entry_ns > 0) {
        charge(stats_.dispatch_ns, now_ns_, now_ns_ + entry_ns);
        phase_ = Phase::entering;
        schedule(now_ns_ + entry_ns);
        return;
    }
    choose_poll_or_wait();
}

// Steps 3-5 entry: poll, skip the wait, or wait.
void AioContext::choose_poll_or_wait() {
    // aio_compute_timeout(): a completion timer caps the poll budget, and one
    // already expired means neither polling nor waiting (timeout 0), only
    // running the timers.
    int64_t poll_budget_ns = iter_poll_ns_;
    if (profile_.mechanisms.timer_completions) {
        const int64_t deadline_ns = timer_due_ns();
        if (deadline_ns <= now_ns_) {
            // A step at this instant: the timer's own event (same instant,
            // ordered before steps) must have fired first.
            phase_ = Phase::timer_due;
            schedule(now_ns_);
            return;
        }
        if (deadline_ns != kNever) poll_budget_ns = std::min(poll_budget_ns, deadline_ns - now_ns_);
    }
    if (skip_next_poll_) {
        skip_next_poll_ = false;
        poll_budget_ns = 0;
    }
    if (!poll_list_.empty() && poll_budget_ns > 0) {
        start_poll_phase(poll_budget_ns);
    } else if (notifier_ >= 0 && handlers_[notifier_].notified) {
        // aio_poll(): notify_me is set, ctx->notified is seen, the timeout
        // drops to 0 and the wait is skipped; nothing is dispatched.
        dispatch_timers_only();
    } else {
        begin_wait_phase();
    }
}

// An iteration's poll time holds from its start to the next iteration's start.
void AioContext::close_poll_interval(int64_t until_ns) {
    if (!interval_open_) return;
    const int64_t dt = window_.clip(iter_start_ns_, until_ns);
    stats_.poll_hist.add_time(iter_poll_ns_, dt);
    if (poll_max_ns_ > 0 && static_cast<double>(iter_poll_ns_) >= near_max_fraction_ * static_cast<double>(poll_max_ns_))
        stats_.near_max_ns += dt;
    interval_open_ = false;
}

// QEMU drops handlers with no dispatch for POLL_IDLE_INTERVAL_NS from the
// poll list. A handler with work waiting stays: removing it while its
// notifications are off would strand that work.
void AioContext::remove_idle_poll_handlers() {
    if (now_ns_ < next_idle_check_ns_) return;
    next_idle_check_ns_ = kNever;
    const int64_t interval = profile_.poll_idle_interval_ns;
    size_t out = 0;
    for (size_t i = 0; i < poll_list_.size(); ++i) {
        const int h = poll_list_[i];
        Handler& hd = handlers_[h];
        // The notifier stays: no recorded log (results/real-qemu/) has a
        // poll_remove, and it could not join again (it only joins by dispatch).
        if (now_ns_ - hd.last_dispatch_ns >= interval && hd.pending.empty() && h != notifier_) {
            hd.in_poll_list = false;
            hd.poll_pos = -1;
            policy_->handler_left(h);
            continue;
        }
        next_idle_check_ns_ = std::min(next_idle_check_ns_, hd.last_dispatch_ns + interval);
        poll_list_[out] = h;
        dispatched_[out] = dispatched_[i];
        hd.poll_pos = static_cast<int>(out);
        ++out;
    }
    poll_list_.resize(out);
    dispatched_.resize(out);
}

// Step 3: busy polling. The end is computed from the next visible work, never
// spin by spin: the first spin boundary start + k*spin_ns (k >= 1) at or after
// the work, or the first boundary at or after start + T.
void AioContext::start_poll_phase(int64_t poll_ns) {
    polling_mode_ = true;
    if (trace_)
        trace("run_poll_handlers_begin", "max_ns %lld timeout %lld", poll_ns,
              next_deadline() == kNever ? -1 : next_deadline() - now_ns_);
    if (iter_in_window_) {
        ++stats_.poll_phases;
        stats_.sum_poll_max_ns += poll_ns;
        stats_.poll_max_hist.add_iteration(poll_ns);
    }
    const auto n_poll = static_cast<int64_t>(poll_list_.size());
    spin_ns_ = std::max<int64_t>(1, profile_.spin_overhead_ns.sample(rng_) + n_poll * profile_.poll_check_ns.sample(rng_));
    poll_start_ns_ = now_ns_;
    phase_ = Phase::polling;
    poll_spins_ = poll_list_has_work() ? 1 : (poll_ns + spin_ns_ - 1) / spin_ns_;
    schedule(now_ns_ + poll_spins_ * spin_ns_);
}

void AioContext::end_poll_phase() {
    charge(stats_.poll_ns, poll_start_ns_, now_ns_);
    if (iter_in_window_) stats_.spins += poll_spins_;  // the phase ends at a spin boundary
    if (poll_list_has_work()) {
        collect_poll_visible();
        // QEMU's progress flag leaves out the notifier: polling ends (the
        // timeout drops to 0) but it is not a successful poll.
        const bool progress = dispatch_list_.size() > 1 || dispatch_list_.front() != notifier_;
        trace("run_poll_handlers_end", "progress %lld", progress);
        if (iter_in_window_ && progress) ++stats_.poll_successes;
        if (!progress) charge(stats_.wasted_poll_ns, poll_start_ns_, now_ns_);
        begin_dispatch();
        return;
    }
    charge(stats_.wasted_poll_ns, poll_start_ns_, now_ns_);
    trace("run_poll_handlers_end", "progress 0");
    // Polled up to a timer's deadline: QEMU's timeout is now 0, so it skips
    // the wait (notifications stay off) and goes on to run the timer.
    if (profile_.mechanisms.timer_completions && timer_due_ns() <= now_ns_) {
        dispatch_timers_only();
        return;
    }
    begin_wait_phase();
}

// Step 5: notifications back on, one last check of the poll list (it covers
// work that arrived while the guest was told not to kick), then the wait call.
void AioContext::begin_wait_phase() {
    polling_mode_ = false;
    const auto n_poll = static_cast<int64_t>(poll_list_.size());
    const int64_t check_ns = n_poll ? n_poll * profile_.poll_check_ns.sample(rng_) : 0;
    if (check_ns == 0) {
        after_final_check();
        return;
    }
    charge(stats_.final_check_ns, now_ns_, now_ns_ + check_ns);
    phase_ = Phase::final_check;
    schedule(now_ns_ + check_ns);
}

void AioContext::after_final_check() {
    if (poll_list_has_work()) {
        collect_poll_visible();
        begin_dispatch();
        return;
    }
    if (iter_in_window_) ++stats_.waits;
    const int64_t syscall_ns = profile_.syscall_ns.sample(rng_);
    charge(stats_.syscall_ns, now_ns_, now_ns_ + syscall_ns);
    phase_ = Phase::syscall;
    if (syscall_ns == 0) after_syscall();
    else schedule(now_ns_ + syscall_ns);
}

// The wait returns at once if an fd is readable; otherwise the thread sleeps
// until the first one is.
void AioContext::after_syscall() {
    // A completion timer bounds the wait like an fd (ppoll's timeout).
    const int64_t t_ev = profile_.mechanisms.timer_completions ? std::min(earliest_fd_ready(), timer_due_ns())
                                                                : earliest_fd_ready();
    if (t_ev <= now_ns_) {
        collect_fd_readable();
        begin_dispatch();
        return;
    }
    phase_ = Phase::sleeping;
    trace("sleep", "until %lld", t_ev == kNever ? -1 : t_ev);
    if (t_ev != kNever) {
        schedule(t_ev);
    } else {
        ++generation_;  // nothing to wait for yet: fd_became_ready() will schedule
        scheduled_ns_ = kNever;
        host_.cancel_step(index_);
    }
}

// The scheduler runs the thread wakeup_latency after the fd fired; the
// thread then pays its own wakeup cost before it can dispatch.
void AioContext::wake_up() {
    if (window_.contains(now_ns_)) ++stats_.wakeups;
    // Woken by a completion timer's deadline rather than by an fd.
    const bool by_timer = profile_.mechanisms.timer_completions && earliest_fd_ready() > now_ns_;
    const int64_t latency_ns = by_timer ? timer_wakeup_ns() : profile_.wakeup_latency_ns.sample(rng_);
    const int64_t cpu_ns = profile_.wakeup_cpu_ns.sample(rng_);
    charge(stats_.wakeup_latency_ns, now_ns_, now_ns_ + latency_ns);
    charge(stats_.wakeup_ns, now_ns_ + latency_ns, now_ns_ + latency_ns + cpu_ns);
    phase_ = Phase::waking;
    schedule(now_ns_ + latency_ns + cpu_ns);
}

// A wake-up by a completion timer: as the recording had it for that request
// (replay with recorded wake-ups), else the profile's timer wake-up delay.
int64_t AioContext::timer_wakeup_ns() {
    if (!expired_.empty()) {
        const int64_t recorded = host_.request_recorded_wake_ns(expired_.front());
        if (recorded >= 0) return std::max<int64_t>(0, recorded - static_cast<int64_t>(profile_.wakeup_cpu_ns.mean_ns()));
    }
    return (profile_.timer_wakeup_latency_ns ? *profile_.timer_wakeup_latency_ns : profile_.wakeup_latency_ns)
        .sample(rng_);
}

// timer-completions with QEMU's timeout at 0: no fd was waited for, so no
// handler is dispatched; the iteration only runs its timers.
void AioContext::dispatch_timers_only() {
    dispatch_list_.clear();
    begin_dispatch();
}

// aio_notify_accept(): after the wait, before dispatch.
void AioContext::notify_accept() {
    if (notifier_ >= 0) set_notified(false);
}

// Steps 6-7.
void AioContext::begin_dispatch() {
    block_ns_ = now_ns_ - iter_start_ns_;
    notify_accept();
    dispatch_index_ = 0;
    dispatch_next();
}

void AioContext::dispatch_next() {
    if (dispatch_index_ == dispatch_list_.size()) {
        if (!expired_.empty()) run_timers();
        else finish_iteration();
        return;
    }
    const int h = dispatch_list_[dispatch_index_];
    Handler& hd = handlers_[h];
    if (!hd.in_poll_list) join_poll_list(h);
    dispatched_[hd.poll_pos] = 1;
    hd.last_dispatch_ns = now_ns_;
    set_fd_ready(h, kNever);  // the handler reads its eventfd
    in_flight_.clear();
    dispatching_vq_ = hd.kind == Handler::Kind::vq;
    int64_t cost_ns = 0;
    if (hd.kind == Handler::Kind::notifier) {
        // aio_context_notifier_cb(): nothing to do but clear the flag.
    } else if (hd.kind == Handler::Kind::vq) {
        hd.kick_outstanding = false;
        vq_dispatched_ = true;
        size_t n = hd.pending.size();
        if (profile_.aio_max_batch > 0) n = std::min<size_t>(n, static_cast<size_t>(profile_.aio_max_batch));
        trace("virtio_blk_handle", "requests %lld", static_cast<int64_t>(n));
        for (size_t i = 0; i < n; ++i) in_flight_.push_back(hd.pending.pop());
        cost_ns = profile_.vq_dispatch_ns.sample(rng_) + static_cast<int64_t>(n) * profile_.per_request_ns.sample(rng_) +
                  profile_.submit_ns.sample(rng_);
    } else {
        while (!hd.pending.empty()) in_flight_.push_back(hd.pending.pop());
        cost_ns = profile_.cq_dispatch_ns.sample(rng_) + completion_cost_ns();
    }
    with_work_.set(h, hd.has_work());
    charge(stats_.dispatch_ns, now_ns_, now_ns_ + cost_ns);
    phase_ = Phase::dispatching;
    schedule(now_ns_ + cost_ns);
}

// Completing in_flight_ for the guest: per request, and one guest interrupt
// per distinct device completed.
int64_t AioContext::completion_cost_ns() {
    // Distinct devices counted by stamping each with the batch's number, not
    // by sorting (batches of a hundred requests made the sort show).
    ++batch_stamp_;
    int64_t k = 0;
    for (int32_t id : in_flight_) {
        const auto device = static_cast<size_t>(host_.request_device(id));
        if (device >= device_stamp_.size()) device_stamp_.resize(device + 1, 0);
        if (device_stamp_[device] == batch_stamp_) continue;
        device_stamp_[device] = batch_stamp_;
        ++k;
    }
    return static_cast<int64_t>(in_flight_.size()) * profile_.per_completion_ns.sample(rng_) +
           static_cast<int64_t>(k) * profile_.irq_inject_ns.sample(rng_);
}

// A handler's dispatch ended: its requests reach the backend, or its
// completions reach the guest.
void AioContext::finish_handler_dispatch() {
    for (int32_t id : in_flight_) {
        if (dispatching_vq_) host_.to_backend(id);
        else host_.to_guest(id);
    }
    ++dispatch_index_;
    dispatch_next();
}

// timer-completions: timerlistgroup_run_timers() after dispatch completes
// every request whose timer has fired; each completion costs like a reaped
// one, plus one guest interrupt per device.
void AioContext::run_timers() {
    in_flight_.assign(expired_.begin(), expired_.end());
    expired_.clear();
    trace("virtio_blk_rw_complete", "requests %lld", static_cast<int64_t>(in_flight_.size()));
    const int64_t cost_ns = completion_cost_ns();
    charge(stats_.dispatch_ns, now_ns_, now_ns_ + cost_ns);
    phase_ = Phase::timers;
    schedule(now_ns_ + cost_ns);
}

void AioContext::finish_timers() {
    for (int32_t id : in_flight_) host_.to_guest(id);
    in_flight_.clear();
    finish_iteration();
}

// Step 8.
void AioContext::finish_iteration() {
    PolicyCounters counters;
    policy_->update(block_ns_, poll_list_, dispatched_, counters);
    if (trace_) {
        for (int64_t i = 0; i < counters.grows; ++i) trace("poll_grow", "block_ns %lld new %lld", block_ns_, policy_->poll_ns());
        for (int64_t i = 0; i < counters.shrinks; ++i) trace("poll_shrink", "block_ns %lld new %lld", block_ns_, policy_->poll_ns());
    }
    if (iter_in_window_) {
        stats_.policy.updates += counters.updates;
        stats_.policy.resets += counters.resets;
        stats_.policy.grows += counters.grows;
        stats_.policy.shrinks += counters.shrinks;
    }
    std::fill(dispatched_.begin(), dispatched_.end(), 0);
    skip_next_poll_ = profile_.mechanisms.dispatch_poll_gate && vq_dispatched_ && !armed_earliest_;
    vq_dispatched_ = armed_earliest_ = false;
    begin_iteration();
}

void AioContext::guest_submit(int handler, int32_t request_id, int64_t now_ns) {
    if (window_.contains(now_ns)) ++stats_.submitted;
    Handler& hd = handlers_[handler];
    add_pending(handler, request_id);
    new_work(handler, now_ns);
    if (notifications_off(hd) || hd.kick_outstanding) return;
    hd.kick_outstanding = true;
    charge(stats_.guest_kick_ns, now_ns, now_ns + profile_.guest_kick_ns.sample(rng_));
    set_fd_ready(handler, now_ns + profile_.kick_latency_ns.sample(rng_));
    fd_became_ready(hd.fd_ready_ns);
}

void AioContext::backend_complete(int32_t request_id, int64_t now_ns) {
    if (profile_.mechanisms.timer_completions) {
        // The timer fired: the loop completes the request when it next runs
        // its timers (a sleep or poll phase was already bounded by it).
        timer_deadlines_.pop();
        expired_.push_back(request_id);
        return;
    }
    const int cq = cq_handler();
    Handler& hd = handlers_[cq];
    add_pending(cq, request_id);
    new_work(cq, now_ns);
    const int64_t ready_ns = now_ns + profile_.complete_notify_ns.sample(rng_);
    if (ready_ns < hd.fd_ready_ns) {
        set_fd_ready(cq, ready_ns);
        fd_became_ready(ready_ns);
    }
}

void AioContext::arm_timer(int64_t deadline_ns) {
    // timer_mod() of a timer that becomes the earliest calls aio_notify()
    // (timerlist_rearm): the next iteration must recompute its timeout.
    if (deadline_ns < next_deadline()) {
        armed_earliest_ = true;
        if (notifier_ >= 0) set_notified(true);
    }
    timer_deadlines_.push(deadline_ns);
    fd_became_ready(deadline_ns);  // only dispatch arms timers, but a sleep must not outlast one
}

// The wait ahead, as a clairvoyant policy sees it: work a poll would see now,
// else the earlier of the next arrival on a poll-list vq and the next
// completion (if the cq is on the poll list). Only the next arrival is known:
// if it goes to a vq not on the poll list (not yet dispatched, or dropped as
// idle) the arrivals after it are not looked at. Sleep costs are the
// profile's means; the draws of this very wait are not known in advance.
WaitOutlook AioContext::wait_outlook() const {
    WaitOutlook o;
    const auto n_poll = static_cast<double>(poll_list_.size());
    o.sleep_cpu_ns = std::llround(n_poll * profile_.poll_check_ns.mean_ns() + profile_.syscall_ns.mean_ns() +
                                  profile_.wakeup_cpu_ns.mean_ns());
    o.wakeup_latency_ns = std::llround(profile_.wakeup_latency_ns.mean_ns());
    if (poll_list_has_work()) {
        o.next_work_visible_ns = 0;
        return o;
    }
    int64_t next_ns = kNever;
    int handler = -1;
    const int64_t arrival_ns = host_.next_arrival_ns(index_, handler);
    if (arrival_ns != kNever && handlers_[handler].in_poll_list) next_ns = arrival_ns;
    if (handlers_[cq_].in_poll_list) next_ns = std::min(next_ns, host_.next_completion_ns(index_));
    o.next_work_visible_ns = next_ns == kNever ? -1 : std::max<int64_t>(0, next_ns - now_ns_);
    return o;
}

// Work on a poll-list handler ends a running poll phase at the next spin boundary.
void AioContext::new_work(int handler, int64_t t_ns) {
    if (phase_ != Phase::polling || !handlers_[handler].in_poll_list) return;
    const int64_t k = std::max<int64_t>(1, (t_ns - poll_start_ns_ + spin_ns_ - 1) / spin_ns_);
    const int64_t boundary_ns = poll_start_ns_ + k * spin_ns_;
    if (boundary_ns < scheduled_ns_) {
        poll_spins_ = k;
        schedule(boundary_ns);
    }
}

void AioContext::fd_became_ready(int64_t ready_ns) {
    if (phase_ == Phase::sleeping && ready_ns < scheduled_ns_) schedule(ready_ns);
}

void AioContext::add_pending(int handler, int32_t request_id) {
    auto& pending = handlers_[handler].pending;
    if (pending.empty()) with_work_.insert(handler);  // else it is in already
    pending.push(request_id);
}

void AioContext::set_notified(bool notified) {
    handlers_[notifier_].notified = notified;
    with_work_.set(notifier_, handlers_[notifier_].has_work());
}

void AioContext::set_fd_ready(int handler, int64_t ready_ns) {
    handlers_[handler].fd_ready_ns = ready_ns;
    fd_armed_.set(handler, ready_ns != kNever);
}

bool AioContext::poll_list_has_work() const {
    return with_work_.find_if([&](int h) { return handlers_[h].in_poll_list; });
}

// The scans below visit only handlers with work or an armed fd, in handler
// order (the dispatch order), so a context with many idle handlers pays for
// the busy ones only.
void AioContext::collect_poll_visible() {
    dispatch_list_.clear();
    with_work_.for_each([&](int h) {
        if (handlers_[h].in_poll_list) dispatch_list_.push_back(h);
    });
}

void AioContext::collect_fd_readable() {
    dispatch_list_.clear();
    fd_armed_.for_each([&](int h) {
        if (handlers_[h].fd_ready_ns <= now_ns_) dispatch_list_.push_back(h);
    });
}

int64_t AioContext::earliest_fd_ready() const {
    int64_t t = kNever;
    fd_armed_.for_each([&](int h) { t = std::min(t, handlers_[h].fd_ready_ns); });
    return t;
}

void AioContext::join_poll_list(int handler) {
    Handler& hd = handlers_[handler];
    hd.in_poll_list = true;
    hd.poll_pos = static_cast<int>(poll_list_.size());
    poll_list_.push_back(handler);
    dispatched_.push_back(0);
    policy_->handler_joined(handler);
    next_idle_check_ns_ = std::min(next_idle_check_ns_, now_ns_ + profile_.poll_idle_interval_ns);
}

void AioContext::finish(int64_t end_ns) {
    if (phase_ == Phase::polling) {
        charge(stats_.poll_ns, poll_start_ns_, end_ns);
        charge(stats_.wasted_poll_ns, poll_start_ns_, end_ns);
    }
    close_poll_interval(end_ns);
}

}  // namespace pollsim
