// A fake guest for workload tests (no engine): it records every
// submission, fires timers in time order and completes each request its
// service time (or a default) plus a fixed extra after submission, so a
// workload can be checked request by request.
#pragma once
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <queue>
#include <vector>

#include "sim/workload.h"

namespace pollsim::test {

class FakeGuest final : public GuestApi {
public:
    FakeGuest(int devices, int queues, int64_t extra_latency_ns = 0, int64_t default_service_ns = 100'000)
        : devices_(devices), queues_(queues), extra_ns_(extra_latency_ns), default_service_ns_(default_service_ns) {}

    int64_t now_ns() const override { return now_; }
    void submit(IoRequest req) override {
        req.t_sub_ns = now_;
        submitted.push_back(req);
        ++in_flight_;
        max_in_flight = std::max(max_in_flight, in_flight_);
        const int64_t svc = req.service_ns >= 0 ? req.service_ns : default_service_ns_;
        events_.push(Event{now_ + svc + extra_ns_, seq_++, false, 0, req});
    }
    void timer_at(int64_t t_ns, uint64_t cookie) override {
        CHECK(t_ns >= now_);
        ++pending_timers_;
        max_pending_timers = std::max(max_pending_timers, pending_timers_);
        events_.push(Event{t_ns, seq_++, true, cookie, {}});
    }
    int devices() const override { return devices_; }
    int queues() const override { return queues_; }
    void count_skipped(int64_t n) override { skipped += n; }

    // Runs until no event is left or the next is at or after end_ns.
    void run(Workload& w, int64_t end_ns = std::numeric_limits<int64_t>::max()) {
        w.start(*this);
        while (!events_.empty() && events_.top().t_ns < end_ns) {
            const Event e = events_.top();
            events_.pop();
            now_ = e.t_ns;
            if (e.timer) {
                --pending_timers_;
                w.on_timer(*this, e.cookie);
            } else {
                --in_flight_;
                w.on_complete(*this, e.req);
            }
        }
    }

    std::vector<IoRequest> submitted;
    int64_t skipped = 0;
    int max_pending_timers = 0;
    int64_t max_in_flight = 0;

private:
    struct Event {
        int64_t t_ns;
        uint64_t seq;
        bool timer;
        uint64_t cookie;
        IoRequest req;
        bool operator<(const Event& o) const { return t_ns != o.t_ns ? t_ns > o.t_ns : seq > o.seq; }
    };
    int devices_, queues_;
    int64_t extra_ns_, default_service_ns_;
    int64_t now_ = 0;
    uint64_t seq_ = 0;
    int pending_timers_ = 0;
    int64_t in_flight_ = 0;
    std::priority_queue<Event> events_;
};

}  // namespace pollsim::test
