// The engine's queue and sets (issue 11): the order the simulation relies on.
#include <doctest/doctest.h>

#include <cmath>
#include <tuple>
#include <vector>

#include "sim/event_queue.h"
#include "sim/index_set.h"
#include "sim/rng.h"

using namespace pollsim;

namespace {
std::vector<Event> drain(EventQueue& q, int64_t end_ns = INT64_MAX) {
    std::vector<Event> out;
    Event ev;
    while (q.pop_before(end_ns, ev)) out.push_back(ev);
    return out;
}
// (time, type, who): the request, vCPU or context, or a timer's cookie.
using Seen = std::tuple<int64_t, EventType, uint64_t>;
std::vector<Seen> seen(const std::vector<Event>& evs) {
    std::vector<Seen> out;
    for (const Event& e : evs)
        out.emplace_back(e.t_ns, e.type, e.type == EventType::workload_timer ? e.data : static_cast<uint64_t>(e.target));
    return out;
}
}  // namespace

TEST_CASE("event queue: time, then completions and timers before steps, then insertion order") {
    EventQueue q(3);
    q.set_step(2, 100, 7);
    q.push(100, EventType::backend_done, 42, 0);
    q.set_step(0, 100, 8);
    q.push(100, EventType::workload_timer, 0, 99);
    q.push(50, EventType::backend_done, 1, 0);
    const auto evs = drain(q);
    REQUIRE(evs.size() == 5);
    CHECK(evs[0].t_ns == 50);
    CHECK(evs[1].type == EventType::backend_done);
    CHECK(evs[1].target == 42);
    CHECK(evs[2].type == EventType::workload_timer);
    CHECK(evs[2].data == 99);
    CHECK(evs[3].type == EventType::context_step);
    CHECK(evs[3].target == 2);  // scheduled first
    CHECK(evs[3].data == 7);
    CHECK(evs[4].target == 0);
}

TEST_CASE("event queue: vCPU events sit among completions and timers in insertion order, before steps") {
    EventQueue q(2, 4);
    q.set_step(1, 100, 5);
    q.set_vcpu_done(3, 100);
    q.push(100, EventType::backend_done, 9, 0);
    q.set_vcpu_done(0, 100);
    q.push(100, EventType::workload_timer, 0, 5);
    q.push(50, EventType::backend_done, 1, 0);
    q.set_vcpu_done(2, 70);
    // 50: the completion; 70: vCPU 2; at 100 the class-0 events in the
    // order they were scheduled (vCPU 3, completion 9, vCPU 0, timer), as
    // one heap would give them, and the step last.
    using T = EventType;
    const std::vector<Seen> want = {{50, T::backend_done, 1},  {70, T::vcpu_done, 2},     {100, T::vcpu_done, 3},
                                    {100, T::backend_done, 9}, {100, T::vcpu_done, 0},    {100, T::workload_timer, 5},
                                    {100, T::context_step, 1}};
    CHECK(seen(drain(q)) == want);
}

TEST_CASE("event queue: a vCPU scheduling its next event while handling one, and the window's end") {
    EventQueue q(1, 2);
    q.set_vcpu_done(1, 10);
    q.push(30, EventType::backend_done, 4, 0);
    Event ev;
    REQUIRE(q.pop_before(1000, ev));
    CHECK(ev.type == EventType::vcpu_done);
    CHECK(ev.target == 1);
    q.set_vcpu_done(1, 20);  // its next completion, while handling the last
    REQUIRE(q.pop_before(1000, ev));
    CHECK(ev.t_ns == 20);
    CHECK(ev.target == 1);
    // Taken and not replaced: the slot is empty now.
    REQUIRE(q.pop_before(1000, ev));
    CHECK(ev.type == EventType::backend_done);
    q.set_vcpu_done(0, 2000);
    CHECK_FALSE(q.pop_before(1000, ev));  // due at or after the end: stays
    REQUIRE(q.pop_before(3000, ev));
    CHECK(ev.t_ns == 2000);
    CHECK(ev.target == 0);
    CHECK_FALSE(q.pop_before(INT64_MAX, ev));
}

TEST_CASE("event queue: a new step supersedes the context's last one, a cancelled step never fires") {
    EventQueue q(5);
    q.set_step(1, 300, 1);
    q.set_step(1, 200, 2);  // earlier end: the 300 one is gone
    q.set_step(3, 250, 3);
    q.set_step(4, 260, 4);
    q.cancel_step(4);
    auto evs = drain(q);
    REQUIRE(evs.size() == 2);
    CHECK(evs[0].t_ns == 200);
    CHECK(evs[0].data == 2);
    CHECK(evs[1].target == 3);

    SUBCASE("a step taken out and rescheduled from its handler") {
        q.set_step(0, 10, 5);
        Event ev;
        REQUIRE(q.pop_before(1000, ev));
        q.set_step(0, 20, 6);  // as AioContext::on_step does
        q.set_step(2, 15, 7);
        evs = drain(q);
        REQUIRE(evs.size() == 2);
        CHECK(evs[0].target == 2);
        CHECK(evs[1].data == 6);
    }
    SUBCASE("nothing at or after the end is taken") {
        q.push(1000, EventType::backend_done, 1, 0);
        q.set_step(0, 999, 1);
        evs = drain(q, 1000);
        REQUIRE(evs.size() == 1);
        CHECK(evs[0].t_ns == 999);
    }
}

TEST_CASE("event queue: many events come out sorted by (time, class, seq)") {
    EventQueue q(32);
    Rng rng(3);
    std::vector<int64_t> step_ns(32, -1);
    for (int i = 0; i < 2000; ++i) {
        const auto t = static_cast<int64_t>(rng.below(500));
        if (rng.below(2)) q.push(t, EventType::backend_done, i, 0);
        else q.set_step(static_cast<int>(rng.below(32)), t, static_cast<uint64_t>(i));
    }
    const auto evs = drain(q);
    for (size_t i = 1; i < evs.size(); ++i) {
        const Event& a = evs[i - 1];
        const Event& b = evs[i];
        const int ca = a.type == EventType::context_step, cb = b.type == EventType::context_step;
        const bool ordered = a.t_ns < b.t_ns || (a.t_ns == b.t_ns && (ca < cb || (ca == cb && a.seq < b.seq)));
        CHECK(ordered);
    }
}

TEST_CASE("index set visits its members in increasing order") {
    IndexSet s(5000);
    for (int i : {4999, 0, 64, 63, 4096, 130}) s.insert(i);
    s.erase(130);
    s.set(64, false);
    std::vector<int> seen;
    s.for_each([&](int i) { seen.push_back(i); });
    CHECK(seen == std::vector<int>{0, 63, 4096, 4999});
    CHECK(s.find_if([](int i) { return i > 4000; }));
    CHECK_FALSE(s.find_if([](int i) { return i == 130; }));
}

TEST_CASE("ziggurat normal: mean 0, variance 1, normal tails") {
    Rng rng(11);
    const int n = 2'000'000;
    double sum = 0, sum2 = 0;
    int beyond2 = 0;
    for (int i = 0; i < n; ++i) {
        const double x = rng.normal();
        sum += x;
        sum2 += x * x;
        if (std::fabs(x) > 2) ++beyond2;
    }
    CHECK(std::fabs(sum / n) < 0.003);
    CHECK(std::fabs(sum2 / n - 1) < 0.005);
    CHECK(std::fabs(static_cast<double>(beyond2) / n - 0.0455003) < 0.0008);  // P(|Z| > 2)
}
