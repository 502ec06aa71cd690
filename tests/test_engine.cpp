// Engine scenarios whose answers are worked out by hand (DESIGN §3, §4).
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "policies/policies.h"
#include "sim/aio_context.h"
#include "sim/config.h"
#include "sim/metrics.h"
#include "sim/runner.h"
#include "sim/simulation.h"

using namespace pollsim;

namespace {

// Config on the all-zero test profile plus the given overrides.
Config test_config(std::vector<std::string> sets) {
    std::vector<std::string> all = {"profile=" POLLSIM_TEST_DATA "/profiles/zero.yaml", "replications=1", "threads=1",
                                    "devices=1"};
    all.insert(all.end(), sets.begin(), sets.end());
    return load_config_text("{}", "test", ".", all);
}

// Open loop: one request on device 0 every period_ns, starting at period_ns.
class PeriodicWorkload final : public Workload {
public:
    explicit PeriodicWorkload(int64_t period_ns) : period_ns_(period_ns) {}
    void start(GuestApi& g) override { g.timer_at(period_ns_, 0); }
    void on_timer(GuestApi& g, uint64_t) override {
        g.submit(IoRequest{});
        g.timer_at(g.now_ns() + period_ns_, 0);
    }
    void on_complete(GuestApi&, const IoRequest&) override {}

private:
    int64_t period_ns_;
};

ReplicationResult run_periodic(const Config& c, int64_t period_ns) {
    Simulation sim(c, 0, std::make_unique<PeriodicWorkload>(period_ns));
    return sim.run();
}

// Records what the context asks of the simulation, so a test can drive one
// AioContext step by step.
struct FakeHost final : ContextHost {
    int64_t t_ns = -1;
    uint64_t generation = 0;
    std::vector<int32_t> backend, guest;
    void schedule_step(int, int64_t t, uint64_t g) override {
        t_ns = t;
        generation = g;
    }
    void to_backend(int32_t id) override { backend.push_back(id); }
    void to_guest(int32_t id) override { guest.push_back(id); }
    int32_t request_device(int32_t) const override { return 0; }
};

// Runs every step due at or before t_ns.
void run_until(AioContext& ctx, FakeHost& host, int64_t t_ns) {
    while (host.t_ns >= 0 && host.t_ns <= t_ns) {
        const int64_t t = host.t_ns;
        host.t_ns = -1;
        ctx.on_step(t, host.generation);
    }
}

Profile spin_profile() {
    Profile p;  // all costs zero but the spin: one spin is 300 ns with one handler
    p.spin_overhead_ns = Dist::constant(200);
    p.poll_check_ns = Dist::constant(100);
    return p;
}

}  // namespace

TEST_CASE("poll phase ends at the first spin boundary at or after the work, or after the budget") {
    // fixed policy, poll-max-ns 1000: T = 1000 every iteration.
    const Profile profile = spin_profile();
    FakeHost host;
    AioContext ctx(0, 1, profile, make_fixed_policy({1000, 0, 0, 0}), 1000, 0.75, Window{0, INT64_MAX / 2}, host, 1);
    ctx.start(0);
    // Empty poll list: no poll phase; the thread sleeps with nothing to wait for.
    CHECK(host.t_ns == -1);
    // A request at 1000 is kicked (notifications on) and wakes the thread at once
    // (zero wakeup latency); vq 0 is dispatched and joins the poll list.
    ctx.guest_submit(0, 7, 1000);
    run_until(ctx, host, 1000);
    CHECK(host.backend == std::vector<int32_t>{7});
    CHECK(ctx.stats().wakeups == 1);
    // Next iteration at 1000 polls: spin = 200 + 1*100 = 300; the budget ends at
    // the first boundary >= 1000 + 1000, i.e. 1000 + 4*300 = 2200.
    CHECK(host.t_ns == 2200);

    SUBCASE("work between boundaries ends the phase at the next boundary") {
        ctx.guest_submit(0, 8, 1650);  // 650 after start: ceil(650/300) = 3 -> 1900
        CHECK(host.t_ns == 1900);
        run_until(ctx, host, 1900);
        CHECK(host.backend == std::vector<int32_t>{7, 8});
        CHECK(ctx.stats().spins == 3);
        CHECK(ctx.stats().poll_ns == 900);
        CHECK(ctx.stats().poll_successes == 1);
        CHECK(ctx.stats().guest_kick_ns == 0);  // notifications were off while polling: no second kick
        CHECK(ctx.stats().waits == 1);          // only the very first iteration waited
    }
    SUBCASE("work exactly on a boundary is seen by the spin ending there") {
        ctx.guest_submit(0, 8, 1600);  // 1000 + 2*300
        CHECK(host.t_ns == 1600);
    }
    SUBCASE("work at the very start still needs one whole spin") {
        ctx.guest_submit(0, 8, 1000);
        CHECK(host.t_ns == 1300);
    }
    SUBCASE("no work: the budget runs out, final check, then the thread sleeps") {
        run_until(ctx, host, 2200);
        CHECK(ctx.stats().spins == 4);
        CHECK(ctx.stats().poll_ns == 1200);
        CHECK(ctx.stats().wasted_poll_ns == 1200);
        CHECK(ctx.stats().poll_successes == 0);
        CHECK(ctx.stats().final_check_ns == 100);  // one poll-list handler at 100 ns
        run_until(ctx, host, 2300);                // check ends at 2300, then the wait
        CHECK(ctx.stats().waits == 2);
        CHECK(host.t_ns == -1);                    // asleep, nothing readable
        // Notifications are back on: the next request kicks.
        ctx.guest_submit(0, 9, 5000);
        CHECK(host.t_ns == 5000);
    }
}

TEST_CASE("events every 10 us with a fixed 32 us budget: the thread never sleeps") {
    // Spin 100 ns; each 10 us gap falls inside the 32 us budget, so every
    // iteration after the first finds its request by polling.
    Config c = test_config({"policy=fixed", "iothread.poll-max-ns=32768", "costs.spin_overhead_ns=100",
                            "costs.syscall_ns=1us", "warmup=100us", "duration=10ms",
                            "costs.service.randread=1s",  // no completions inside the run
                            "queue_size=32768"});  // so the ~1010 requests all fit on the virtqueue
    const ReplicationResult r = run_periodic(c, 10'000);
    const ContextStats& s = r.contexts[0];
    CHECK(s.waits == 0);
    CHECK(s.wakeups == 0);
    CHECK(s.syscall_ns == 0);
    // Polling fills the whole window [100 us, 10.1 ms): 10 ms of busy poll
    // time. Phases start at 100, 110, ..., 10090 us; each ends with a success
    // after 100 spins, except the last, which ends at 10.1 ms: the window is
    // half-open and events at its end are not simulated.
    CHECK(s.poll_ns == 10'000'000);
    CHECK(s.poll_phases == 1000);
    CHECK(s.poll_successes == 999);
    CHECK(s.spins == 99'900);
    CHECK(s.guest_kick_ns == 0);
}

TEST_CASE("events every 1 ms without polling: each pays the wakeup latency") {
    // none policy; wakeup 20 us, service 100 us. A request at t is kicked, the
    // thread runs at t + 20 us and submits it; it completes at t + 120 us and
    // the cq wakes the thread again at t + 140 us: latency 140 us exactly.
    Config c = test_config({"policy=none", "costs.wakeup_latency_ns=20us", "costs.syscall_ns=1us",
                            "costs.guest_kick_ns=2us", "costs.service.randread=100us", "warmup=0",
                            "duration=10ms"});
    const ReplicationResult r = run_periodic(c, 1'000'000);
    const ContextStats& s = r.contexts[0];
    // Requests at 1, 2, ..., 9 ms complete inside the 10 ms window; the one
    // at 10 ms falls on the window's end and is not simulated.
    CHECK(s.completed == 9);
    CHECK(s.latency_ns.mean() == doctest::Approx(140'000));
    CHECK(s.wakeups == 18);  // two per request
    CHECK(s.poll_ns == 0);
    // One wait at the start, then two per request.
    CHECK(s.waits == 19);
    CHECK(s.syscall_ns == 19'000);
    CHECK(s.guest_kick_ns == 9 * 2'000);
    nlohmann::ordered_json m = replication_metrics(r, {0});
    CHECK(m["iops"].get<double>() == doctest::Approx(900.0));
    CHECK(m["cpu"]["iothread_util"].get<double>() == doctest::Approx(19'000.0 / 10'000'000));
}

TEST_CASE("idle handlers leave the poll list after poll_idle_interval_ns") {
    // none policy: every iteration goes to the wait phase, whose final check
    // costs 100 ns per poll-list handler, so final_check_ns counts the list.
    // vq0 gets one request at 100 us, vq1 one every 200 us; idle interval 1 ms.
    Config c = test_config({"policy=none", "devices=2", "costs.poll_check_ns=100", "costs.poll_idle_interval_ns=1ms",
                            "costs.service.randread=10s", "warmup=0", "duration=2ms"});
    class TwoDevices final : public Workload {
        void start(GuestApi& g) override {
            g.timer_at(100'000, 0);
            g.timer_at(200'000, 1);
        }
        void on_timer(GuestApi& g, uint64_t device) override {
            IoRequest req;
            req.device = static_cast<int32_t>(device);
            g.submit(req);
            if (device == 1) g.timer_at(g.now_ns() + 200'000, 1);
        }
        void on_complete(GuestApi&, const IoRequest&) override {}
    };
    Simulation sim(c, 0, std::make_unique<TwoDevices>());
    const ContextStats s = sim.run().contexts[0];
    // Iterations after each dispatch: at 100 us one handler (100 ns); at 200,
    // 400, ..., 1000 us two (5 x 200 ns); at 1200 us vq0 has been idle for
    // 1.1 ms >= 1 ms and leaves, so at 1200 ... 1800 us one again (4 x 100 ns).
    CHECK(s.final_check_ns == 100 + 5 * 200 + 4 * 100);
    CHECK(s.wakeups == 10);
}

TEST_CASE("outside polling mode every request on an idle vq kicks the guest") {
    // none policy never enters polling mode: every request on an idle vq kicks.
    Config c = test_config({"policy=none", "costs.guest_kick_ns=1us", "costs.service.randread=10s", "warmup=0",
                            "duration=1ms"});
    const ReplicationResult r = run_periodic(c, 100'000);  // 9 requests in (0, 1 ms)
    CHECK(r.contexts[0].guest_kick_ns == 9'000);
}

TEST_CASE("a replication is deterministic and independent of the thread count") {
    const Config c1 = load_config("", {"duration=50ms", "warmup=5ms", "replications=4", "threads=1"});
    const Config c3 = load_config("", {"duration=50ms", "warmup=5ms", "replications=4", "threads=3"});
    const RunOutput a = run_config(c1), b = run_config(c3);
    CHECK(a.report["metrics"].dump() == b.report["metrics"].dump());
    CHECK(a.report["per_iothread"].dump() == b.report["per_iothread"].dump());
    CHECK(a.report["config"].dump() == b.report["config"].dump());
    // Different seeds do differ.
    const RunOutput d = run_config(load_config("", {"duration=50ms", "warmup=5ms", "replications=4", "seed=2"}));
    CHECK(a.report["metrics"].dump() != d.report["metrics"].dump());
}

TEST_CASE("two IOThreads split the virtqueues round-robin and sum their CPU") {
    const Config c = load_config("", {"duration=50ms", "warmup=5ms", "replications=2", "iothreads=2",
                                      "workload.numjobs=2"});
    const RunOutput out = run_config(c);
    const auto& per = out.report["per_iothread"];
    REQUIRE(per.size() == 2);
    // numjobs 2 uses devices 0 and 1, which land on IOThreads 0 and 1.
    CHECK(per[0]["metrics"]["iops"]["mean"].get<double>() > 0);
    CHECK(per[1]["metrics"]["iops"]["mean"].get<double>() > 0);
    const double sum = per[0]["metrics"]["cpu"]["iothread_util"]["mean"].get<double>() +
                       per[1]["metrics"]["cpu"]["iothread_util"]["mean"].get<double>();
    CHECK(out.report["metrics"]["cpu"]["iothread_util"]["mean"].get<double>() == doctest::Approx(sum));
    // Histogram bucket means add up to the mean iteration count.
    double iters = 0;
    for (const auto& b : out.report["metrics"]["poll"]["histogram"]) iters += b["iterations"].get<double>();
    CHECK(iters == doctest::Approx(out.report["metrics"]["poll"]["iterations"]["mean"].get<double>()));
}

namespace {
// Every figure of one replication, per IOThread and over all of them.
std::string all_figures(const ReplicationResult& r) {
    std::vector<int> all(r.contexts.size());
    for (size_t c = 0; c < all.size(); ++c) all[c] = static_cast<int>(c);
    std::string out = replication_metrics(r, all).dump() + " events " + std::to_string(r.events);
    for (int c : all) out += replication_metrics(r, {c}).dump();
    return out;
}
}  // namespace

TEST_CASE("IOThreads that share nothing run one after another, with the figures of one queue") {
    struct Case {
        std::vector<std::string> sets;
        int queues;  // the groups worked out by hand
    };
    const std::vector<std::string> base = {"mechanisms=[]", "duration=30ms", "warmup=5ms", "devices=16",
                                           "iothreads=4", "workload.numjobs=8"};
    const std::vector<Case> cases = {
        {{}, 4},
        {{"workload.think=20us"}, 4},  // timers set while a group runs
        {{"policy=legacy-global"}, 4},
        {{"policy=legacy", "costs.device_queue_depth=1"}, 4},
        {{"mechanisms=[timer-completions,timer-notify,dispatch-poll-gate]"}, 4},
        // Device d's virtqueues 2d and 2d+1 land on IOThreads 2d mod 4 and
        // 2d+1 mod 4: {0, 1} and {2, 3} are joined.
        {{"queues=2", "workload.numjobs=32"}, 2},
        // 3 queues on 6 IOThreads: {0, 1, 2} and {3, 4, 5}.
        {{"queues=3", "iothreads=6", "workload.numjobs=40"}, 2},
        {{"workload.numjobs=2"}, 4},           // two groups have no job at all
        // Device d's interrupts go to vCPU d mod 4 (the profile's 4 vCPUs),
        // whose devices all sit on IOThread d mod 4: four groups.
        {{"mechanisms=[guest-vcpus]"}, 4},
        // With 2 vCPUs, vCPU 0 serves devices 0, 2, ... on IOThreads 0 and 2.
        {{"mechanisms=[guest-vcpus]", "costs.guest_vcpus=2"}, 2},
        // 32 vCPUs for 16 devices: the idle ones go to the first group.
        {{"mechanisms=[guest-vcpus]", "costs.guest_vcpus=32"}, 4},
        {{"mechanisms=[guest-vcpus]", "iothreads=2", "costs.guest_vcpus=3"}, 1},  // vCPU 0: devices 0, 3
        {{"workload.spread=all"}, 1},          // one device stream for every job
        {{"workload.type=poisson"}, 1},        // one arrival stream
        {{"iothreads=1"}, 1},
    };
    for (const Case& k : cases) {
        std::vector<std::string> sets = base;
        sets.insert(sets.end(), k.sets.begin(), k.sets.end());
        const Config c = load_config("", sets);
        CAPTURE(sets.back());
        Simulation split(c, 1);
        CHECK(split.queue_count() == k.queues);
        Simulation one(c, 1);
        one.run_on_one_queue();
        REQUIRE(one.queue_count() == 1);
        const ReplicationResult a = split.run(), b = one.run();
        CHECK(a.events > 0);
        CHECK(all_figures(a) == all_figures(b));
    }
}

namespace {
// Claims independent jobs but sets a timer before the run: the engine
// cannot tell which group's queue it belongs to.
class TimerAtStart final : public Workload {
public:
    void start(GuestApi& g) override { g.timer_at(1000, 0); }
    void on_timer(GuestApi&, uint64_t) override {}
    void on_complete(GuestApi&, const IoRequest&) override {}
    bool jobs_independent() const override { return true; }
};
}  // namespace

TEST_CASE("a workload with independent jobs may not set a timer before the run") {
    Simulation sim(test_config({"iothreads=2", "devices=2", "duration=1ms"}), 0, std::make_unique<TimerAtStart>());
    REQUIRE(sim.queue_count() == 2);
    CHECK_THROWS_AS(sim.run(), std::logic_error);
}
