// The AioContext iteration (DESIGN §3), modelled on aio_poll() in QEMU's
// util/aio-posix.c. Each phase that takes virtual time ends in a scheduled
// step; arrivals in between only change handler state, and may move the end
// of a poll phase or of a sleep earlier.
#include "sim/aio_context.h"

#include <algorithm>

namespace pollsim {

AioContext::AioContext(int index, int n_vq, const Profile& profile, std::unique_ptr<Policy> policy,
                       int64_t poll_max_ns, double near_max_fraction, Window window, ContextHost& host,
                       uint64_t seed)
    : index_(index),
      profile_(profile),
      policy_(std::move(policy)),
      poll_max_ns_(poll_max_ns),
      near_max_fraction_(near_max_fraction),
      window_(window),
      host_(host),
      rng_(seed),
      handlers_(static_cast<size_t>(n_vq) + 1) {
    handlers_.back().kind = Handler::Kind::cq;
}

void AioContext::start(int64_t now_ns) {
    now_ns_ = now_ns;
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
    case Phase::idle: break;
    }
}

// Steps 1-2: a new iteration and its poll budget.
void AioContext::begin_iteration() {
    close_poll_interval(now_ns_);
    remove_idle_poll_handlers();
    iter_start_ns_ = now_ns_;
    iter_poll_ns_ = policy_->poll_ns();
    iter_in_window_ = window_.contains(now_ns_);
    interval_open_ = true;
    if (iter_in_window_) {
        ++stats_.iterations;
        stats_.sum_poll_ns += iter_poll_ns_;
        stats_.poll_hist.add_iteration(iter_poll_ns_);
    }
    if (!poll_list_.empty() && iter_poll_ns_ > 0) start_poll_phase(iter_poll_ns_);
    else begin_wait_phase();
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
        if (now_ns_ - hd.last_dispatch_ns >= interval && hd.pending.empty()) {
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
    if (iter_in_window_) ++stats_.poll_phases;
    const auto n_poll = static_cast<int64_t>(poll_list_.size());
    spin_ns_ = std::max<int64_t>(1, profile_.spin_overhead_ns.sample(rng_) + n_poll * profile_.poll_check_ns.sample(rng_));
    poll_start_ns_ = now_ns_;
    phase_ = Phase::polling;
    if (poll_list_has_work()) schedule(now_ns_ + spin_ns_);
    else schedule(now_ns_ + (poll_ns + spin_ns_ - 1) / spin_ns_ * spin_ns_);
}

void AioContext::end_poll_phase() {
    charge(stats_.poll_ns, poll_start_ns_, now_ns_);
    if (iter_in_window_) stats_.spins += (now_ns_ - poll_start_ns_) / spin_ns_;
    if (poll_list_has_work()) {
        if (iter_in_window_) ++stats_.poll_successes;
        collect_poll_visible();
        begin_dispatch();
        return;
    }
    charge(stats_.wasted_poll_ns, poll_start_ns_, now_ns_);
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
    const int64_t t_ev = earliest_fd_ready();
    if (t_ev <= now_ns_) {
        collect_fd_readable();
        begin_dispatch();
        return;
    }
    phase_ = Phase::sleeping;
    if (t_ev != kNever) {
        schedule(t_ev);
    } else {
        ++generation_;  // nothing to wait for yet: fd_became_ready() will schedule
        scheduled_ns_ = kNever;
    }
}

// The scheduler runs the thread wakeup_latency after the fd fired; the
// thread then pays its own wakeup cost before it can dispatch.
void AioContext::wake_up() {
    if (window_.contains(now_ns_)) ++stats_.wakeups;
    const int64_t latency_ns = profile_.wakeup_latency_ns.sample(rng_);
    const int64_t cpu_ns = profile_.wakeup_cpu_ns.sample(rng_);
    charge(stats_.wakeup_ns, now_ns_ + latency_ns, now_ns_ + latency_ns + cpu_ns);
    phase_ = Phase::waking;
    schedule(now_ns_ + latency_ns + cpu_ns);
}

// Steps 6-7.
void AioContext::begin_dispatch() {
    block_ns_ = now_ns_ - iter_start_ns_;
    dispatch_index_ = 0;
    dispatch_next();
}

void AioContext::dispatch_next() {
    if (dispatch_index_ == dispatch_list_.size()) {
        finish_iteration();
        return;
    }
    const int h = dispatch_list_[dispatch_index_];
    Handler& hd = handlers_[h];
    if (!hd.in_poll_list) join_poll_list(h);
    dispatched_[hd.poll_pos] = 1;
    hd.last_dispatch_ns = now_ns_;
    hd.fd_ready_ns = kNever;  // the handler reads its eventfd
    in_flight_.clear();
    int64_t cost_ns;
    if (hd.kind == Handler::Kind::vq) {
        hd.kick_outstanding = false;
        size_t n = hd.pending.size();
        if (profile_.aio_max_batch > 0) n = std::min<size_t>(n, static_cast<size_t>(profile_.aio_max_batch));
        for (size_t i = 0; i < n; ++i) in_flight_.push_back(hd.pending.pop());
        cost_ns = profile_.vq_dispatch_ns.sample(rng_) + static_cast<int64_t>(n) * profile_.per_request_ns.sample(rng_) +
                  profile_.submit_ns.sample(rng_);
    } else {
        while (!hd.pending.empty()) in_flight_.push_back(hd.pending.pop());
        // One guest interrupt per distinct device completed.
        devices_scratch_.clear();
        for (int32_t id : in_flight_) devices_scratch_.push_back(host_.request_device(id));
        std::sort(devices_scratch_.begin(), devices_scratch_.end());
        const auto k = std::unique(devices_scratch_.begin(), devices_scratch_.end()) - devices_scratch_.begin();
        cost_ns = profile_.cq_dispatch_ns.sample(rng_) +
                  static_cast<int64_t>(in_flight_.size()) * profile_.per_completion_ns.sample(rng_) +
                  static_cast<int64_t>(k) * profile_.irq_inject_ns.sample(rng_);
    }
    charge(stats_.dispatch_ns, now_ns_, now_ns_ + cost_ns);
    phase_ = Phase::dispatching;
    schedule(now_ns_ + cost_ns);
}

// A handler's dispatch ended: its requests reach the backend, or its
// completions reach the guest.
void AioContext::finish_handler_dispatch() {
    const bool is_vq = handlers_[dispatch_list_[dispatch_index_]].kind == Handler::Kind::vq;
    for (int32_t id : in_flight_) {
        if (is_vq) host_.to_backend(id);
        else host_.to_guest(id);
    }
    ++dispatch_index_;
    dispatch_next();
}

// Step 8.
void AioContext::finish_iteration() {
    PolicyCounters counters;
    policy_->update(block_ns_, poll_list_, dispatched_, counters);
    if (iter_in_window_) {
        stats_.policy.updates += counters.updates;
        stats_.policy.resets += counters.resets;
        stats_.policy.grows += counters.grows;
        stats_.policy.shrinks += counters.shrinks;
    }
    std::fill(dispatched_.begin(), dispatched_.end(), 0);
    begin_iteration();
}

void AioContext::guest_submit(int handler, int32_t request_id, int64_t now_ns) {
    Handler& hd = handlers_[handler];
    hd.pending.push(request_id);
    new_work(handler, now_ns);
    if (notifications_off(hd) || hd.kick_outstanding) return;
    hd.kick_outstanding = true;
    charge(stats_.guest_kick_ns, now_ns, now_ns + profile_.guest_kick_ns.sample(rng_));
    hd.fd_ready_ns = now_ns + profile_.kick_latency_ns.sample(rng_);
    fd_became_ready(hd.fd_ready_ns);
}

void AioContext::backend_complete(int32_t request_id, int64_t now_ns) {
    const int cq = cq_handler();
    Handler& hd = handlers_[cq];
    hd.pending.push(request_id);
    new_work(cq, now_ns);
    const int64_t ready_ns = now_ns + profile_.complete_notify_ns.sample(rng_);
    if (ready_ns < hd.fd_ready_ns) {
        hd.fd_ready_ns = ready_ns;
        fd_became_ready(ready_ns);
    }
}

// Work on a poll-list handler ends a running poll phase at the next spin boundary.
void AioContext::new_work(int handler, int64_t t_ns) {
    if (phase_ != Phase::polling || !handlers_[handler].in_poll_list) return;
    const int64_t k = std::max<int64_t>(1, (t_ns - poll_start_ns_ + spin_ns_ - 1) / spin_ns_);
    const int64_t boundary_ns = poll_start_ns_ + k * spin_ns_;
    if (boundary_ns < scheduled_ns_) schedule(boundary_ns);
}

void AioContext::fd_became_ready(int64_t ready_ns) {
    if (phase_ == Phase::sleeping && ready_ns < scheduled_ns_) schedule(ready_ns);
}

bool AioContext::poll_list_has_work() const {
    for (int h : poll_list_)
        if (!handlers_[h].pending.empty()) return true;
    return false;
}

void AioContext::collect_poll_visible() {
    dispatch_list_.clear();
    for (size_t h = 0; h < handlers_.size(); ++h)
        if (handlers_[h].in_poll_list && !handlers_[h].pending.empty()) dispatch_list_.push_back(static_cast<int>(h));
}

void AioContext::collect_fd_readable() {
    dispatch_list_.clear();
    for (size_t h = 0; h < handlers_.size(); ++h)
        if (handlers_[h].fd_ready_ns <= now_ns_) dispatch_list_.push_back(static_cast<int>(h));
}

int64_t AioContext::earliest_fd_ready() const {
    int64_t t = kNever;
    for (const auto& hd : handlers_) t = std::min(t, hd.fd_ready_ns);
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
