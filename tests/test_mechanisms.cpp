// The engine's optional mechanisms (sim/mechanisms.h): timer-completions and
// timer-notify, and the switch that turns them off. Scenarios use constant
// costs so that every time below is worked out by hand (comments).
#include <doctest/doctest.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "sim/config.h"
#include "sim/mechanisms.h"
#include "sim/profile.h"
#include "sim/simulation.h"
#include "tests/test_util.h"

using namespace pollsim;
using pollsim::test::CompletionTimes;
using pollsim::test::input_error_of;
using pollsim::test::TimedRequests;
using pollsim::test::ScratchDir;

namespace {

// The all-zero test profile with the given overrides; 1 ms window from 0.
Config mech_config(std::vector<std::string> sets) {
    std::vector<std::string> all = {"profile=" POLLSIM_TEST_DATA "/profiles/zero.yaml", "replications=1", "threads=1",
                                    "devices=1", "warmup=0", "duration=1ms"};
    all.insert(all.end(), sets.begin(), sets.end());
    return load_config_text("{}", "test", ".", all);
}

struct Run {
    ContextStats stats;
    CompletionTimes done;
    std::string trace;  // the loop's events (Simulation::trace_loops)
};

Run run(const Config& c, std::vector<std::pair<int64_t, int32_t>> at) {
    Run r;
    Simulation sim(c, 0, std::make_unique<TimedRequests>(std::move(at)), &r.done);
    std::FILE* f = std::tmpfile();
    REQUIRE(f != nullptr);
    sim.trace_loops(f);
    r.stats = sim.run().contexts.at(0);
    std::rewind(f);
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) r.trace.append(buf, n);
    std::fclose(f);
    return r;
}

// Every ContextStats field.
void check_same_stats(const ContextStats& a, const ContextStats& b) {
    CHECK(a.poll_ns == b.poll_ns);
    CHECK(a.final_check_ns == b.final_check_ns);
    CHECK(a.syscall_ns == b.syscall_ns);
    CHECK(a.wakeup_ns == b.wakeup_ns);
    CHECK(a.dispatch_ns == b.dispatch_ns);
    CHECK(a.guest_kick_ns == b.guest_kick_ns);
    CHECK(a.iterations == b.iterations);
    CHECK(a.poll_phases == b.poll_phases);
    CHECK(a.poll_successes == b.poll_successes);
    CHECK(a.spins == b.spins);
    CHECK(a.waits == b.waits);
    CHECK(a.wakeups == b.wakeups);
    CHECK(a.wasted_poll_ns == b.wasted_poll_ns);
    CHECK(a.sum_poll_ns == b.sum_poll_ns);
    CHECK(a.sum_poll_max_ns == b.sum_poll_max_ns);
    CHECK(a.submitted == b.submitted);
    CHECK(a.near_max_ns == b.near_max_ns);
    CHECK(a.policy.updates == b.policy.updates);
    CHECK(a.policy.resets == b.policy.resets);
    CHECK(a.policy.grows == b.policy.grows);
    CHECK(a.policy.shrinks == b.policy.shrinks);
    CHECK(a.completed == b.completed);
    CHECK(a.bytes == b.bytes);
    CHECK(a.latency_ns.count() == b.latency_ns.count());
    CHECK(a.latency_ns.mean() == b.latency_ns.mean());
    for (double q : {0.0, 0.5, 0.9, 0.99, 1.0}) CHECK(a.latency_ns.quantile(q) == b.latency_ns.quantile(q));
    for (int i = 0; i < Pow2Histogram::kBuckets; ++i) {
        CAPTURE(i);
        CHECK(a.poll_hist.iterations(i) == b.poll_hist.iterations(i));
        CHECK(a.poll_hist.time_ns(i) == b.poll_hist.time_ns(i));
        CHECK(a.poll_max_hist.iterations(i) == b.poll_max_hist.iterations(i));
    }
}

bool differs(const ContextStats& a, const ContextStats& b) {
    return a.poll_ns != b.poll_ns || a.poll_successes != b.poll_successes || a.iterations != b.iterations || a.poll_phases != b.poll_phases ||
           a.waits != b.waits || a.wakeups != b.wakeups || a.sum_poll_max_ns != b.sum_poll_max_ns ||
           a.latency_ns.mean() != b.latency_ns.mean() || a.dispatch_ns != b.dispatch_ns;
}

// The costs of tests/data/validate/flat.yaml, as overrides of the zero profile.
const std::vector<std::string> kFlatCosts = {
    "costs.spin_overhead_ns=1000",  "costs.wakeup_latency_ns=10us", "costs.vq_dispatch_ns=2000",
    "costs.per_completion_ns=1000", "costs.irq_inject_ns=500",      "costs.service.randread=100us",
    "costs.service.read=100us",     "costs.service.randwrite=100us", "costs.service.write=100us",
    "costs.iteration_ns=1000"};

// Costs of the hand-worked scenarios below: one spin 1000 ns (poll_check 0, so
// any number of poll-list handlers), wakeup latency 5 us, vq dispatch 3000 ns,
// a completion 700 ns + 300 ns per device, device latency 20 us, all else 0.
std::vector<std::string> timer_sets(const std::string& policy, const std::string& mechanisms) {
    return {"policy=" + policy,          "iothread.poll-max-ns=50000",   "costs.spin_overhead_ns=1000",
            "costs.wakeup_latency_ns=5us", "costs.vq_dispatch_ns=3000",  "costs.per_completion_ns=700",
            "costs.irq_inject_ns=300",   "costs.service.randread=20us", "mechanisms=" + mechanisms};
}

}  // namespace

// ---- the switch -------------------------------------------------------------

TEST_CASE("an empty mechanisms list in the config runs the plain DESIGN model exactly") {
    // flat.yaml lists timer-completions; a config's `mechanisms: []` replaces
    // that list. The result must equal the zero profile with the same costs,
    // which never had a mechanism.
    const std::string flat = "profile=" POLLSIM_TEST_DATA "/validate/flat.yaml";
    // With flat.yaml's costs a timer completion and a cq one cost the same, so a
    // difference needs polling that outlasts the device: 20 us service under a
    // fixed 50 us budget (the cq path counts a poll success, the timer path not).
    const std::pair<const char*, const char*> runs[] = {{"fio", "fixed"}, {"poisson", "fixed"}, {"fio", "weighted"}};
    for (const auto& [workload, policy] : runs) {
        CAPTURE(workload);
        CAPTURE(policy);
        std::vector<std::string> common = {"replications=1", "threads=1",  "devices=2",
                                           "warmup=1ms",     "duration=20ms", std::string("policy=") + policy,
                                           "iothread.poll-max-ns=50000", "workload.numjobs=2", "workload.iodepth=2",
                                           "workload.rate_iops=30000", std::string("workload.type=") + workload};
        std::vector<std::string> off_set = common, plain = common, on = common;
        off_set.insert(off_set.end(), {flat, "mechanisms=[]"});
        on.push_back(flat);
        plain.push_back("profile=" POLLSIM_TEST_DATA "/profiles/zero.yaml");
        plain.insert(plain.end(), kFlatCosts.begin(), kFlatCosts.end());
        for (auto* v : {&off_set, &plain, &on}) v->push_back("costs.service.randread=20us");

        const Config c_set = load_config_text("{}", "test", ".", off_set);
        std::vector<std::string> text_sets = common;
        text_sets.insert(text_sets.end(), {flat, "costs.service.randread=20us"});
        const Config c_text = load_config_text("mechanisms: []\n", "test", ".", text_sets);
        const Config c_plain = load_config_text("{}", "test", ".", plain);
        const Config c_on = load_config_text("{}", "test", ".", on);
        CHECK_FALSE(c_set.profile.mechanisms.timer_completions);
        CHECK_FALSE(c_text.profile.mechanisms.timer_completions);
        CHECK(c_on.profile.mechanisms.timer_completions);
        CHECK_FALSE(c_on.profile.mechanisms.timer_notify);
        // Switched off, the profile's JSON (and so its fingerprint) has no mechanisms key.
        CHECK_FALSE(profile_to_json(c_set.profile).contains("mechanisms"));
        CHECK(profile_to_json(c_on.profile)["mechanisms"].dump() == R"(["timer-completions"])");

        const ContextStats off = run_replication(c_set, 0).contexts.at(0);
        const ContextStats off2 = run_replication(c_text, 0).contexts.at(0);
        const ContextStats ref = run_replication(c_plain, 0).contexts.at(0);
        const ContextStats with = run_replication(c_on, 0).contexts.at(0);
        REQUIRE(ref.completed > 100);
        check_same_stats(off, ref);
        check_same_stats(off2, ref);
        // And the switch does switch something (where polling meets the completions).
        if (std::string(policy) == "fixed") CHECK(differs(with, ref));
    }
}

// ---- timer-completions ------------------------------------------------------

TEST_CASE("timer-completions: the deadline caps the poll budget and ends the iteration without a wait") {
    // fixed policy, T = 50 us; one request at 100 us.
    //   it1 @0:       poll list empty -> wait (waits 1); the kick at 100000 wakes the
    //                 thread at 105000; vq dispatch to 108000; the timer is armed for
    //                 108000 + 20000 = 128000.
    //   it2 @108000:  budget min(50000, 128000 - 108000) = 20000 (max_ns 20000, bucket
    //                 [16384, 32768)); 20 spins end exactly at 128000, where the timer
    //                 fired: no wait, timers only (block 20000), 700 + 300 ns -> the
    //                 guest sees the completion at 129000 (latency 29000).
    //   it3 @129000:  no timer: full 50000 budget (bucket [32768, 65536)) to 179000,
    //                 then the wait (waits 2).
    const Run r = run(mech_config(timer_sets("fixed", "[timer-completions]")), {{100'000, 0}});
    CHECK(r.done.at[0] == 129'000);
    CHECK(r.stats.iterations == 3);
    CHECK(r.stats.poll_phases == 2);
    CHECK(r.stats.sum_poll_max_ns == 20'000 + 50'000);
    CHECK(r.stats.poll_max_hist.iterations(15) == 1);
    CHECK(r.stats.poll_max_hist.iterations(16) == 1);
    CHECK(r.stats.sum_poll_ns == 3 * 50'000);  // T itself is not capped
    CHECK(r.stats.poll_successes == 0);
    CHECK(r.stats.waits == 2);
    CHECK(r.stats.wakeups == 1);
    CHECK(r.stats.poll_ns == 70'000);
    CHECK(r.stats.spins == 70);
    CHECK(r.stats.dispatch_ns == 3000 + 1000);
    CHECK(r.stats.completed == 1);
    CHECK(r.trace.find("0.000108:run_poll_handlers_begin ctx 0 max_ns 20000 timeout 20000\n") != std::string::npos);

    SUBCASE("the same scenario without the mechanism completes through the cq fd") {
        // it2 polls its whole 50000 to 158000 (the completion at 128000 is on the
        // cq, not on the poll list), final check, the wait returns at once with the
        // cq readable (waits 2): block 50000, cq dispatch 1000 -> 159000.
        // it3 @159000: polls 50000 with vq and cq, then waits (waits 3).
        const Run p = run(mech_config(timer_sets("fixed", "[]")), {{100'000, 0}});
        CHECK(p.done.at[0] == 159'000);
        CHECK(p.stats.poll_phases == 2);
        CHECK(p.stats.sum_poll_max_ns == 100'000);
        CHECK(p.stats.waits == 3);
        CHECK(p.stats.wakeups == 1);
    }
}

TEST_CASE("timer-completions: a deadline reached before the iteration starts means no poll and no wait") {
    // fixed 50 us, device latency 1 us, two devices; requests on both at 100 us.
    //   it1 @0: wait; the kicks wake the thread at 105000; vq0 dispatch to 108000
    //           (R1 timer at 109000), vq1 dispatch to 111000 (R1's timer fires at
    //           109000, meanwhile; R2's is armed for 112000); then the timers:
    //           R1, 700 + 300 -> guest at 112000.
    //   it2 @112000: R2's timer fired at 112000 (completions come before loop
    //           steps): no poll phase, no wait, timers only -> R2 at 113000.
    //   it3 @113000: polls 50000 (vq0, vq1 on the list) and then waits (waits 2).
    std::vector<std::string> sets = timer_sets("fixed", "[timer-completions]");
    sets.insert(sets.end(), {"devices=2", "costs.service.randread=1us"});
    const Run r = run(mech_config(sets), {{100'000, 0}, {100'000, 1}});
    CHECK(r.done.at[0] == 112'000);
    CHECK(r.done.at[1] == 113'000);
    CHECK(r.stats.iterations == 3);
    CHECK(r.stats.poll_phases == 1);
    CHECK(r.stats.sum_poll_max_ns == 50'000);
    CHECK(r.stats.waits == 2);
    CHECK(r.stats.wakeups == 1);
    CHECK(r.stats.dispatch_ns == 3000 + 3000 + 1000 + 1000);
}

TEST_CASE("timer-completions: completions of several devices pay one interrupt per device") {
    // none policy (no polling), latency 20 us: requests at 100 us on devices 0, 1
    // and 0 again (queue order). The kicks wake the thread at 105000; vq0 takes both
    // of its requests: 3000 ns, to 108000 (timers at 128000); vq1 to 111000 (timer at
    // 131000). it2 @111000 sleeps until the first deadline, 128000, and wakes at
    // 133000; by then all three timers have fired: they complete together after
    // dispatch, 3 * 700 ns + 2 devices * 300 ns = 2700 -> 135700.
    // it3 @135700 waits (waits 3).
    std::vector<std::string> sets = timer_sets("none", "[timer-completions]");
    sets.push_back("devices=2");
    const Run r = run(mech_config(sets), {{100'000, 0}, {100'000, 1}, {100'000, 0}});
    CHECK(r.done.at[0] == 135'700);
    CHECK(r.done.at[1] == 135'700);
    CHECK(r.done.at[2] == 135'700);
    CHECK(r.stats.iterations == 3);
    CHECK(r.stats.waits == 3);
    CHECK(r.stats.wakeups == 2);
    CHECK(r.stats.dispatch_ns == 3000 + 3000 + 2700);
}

// ---- timer-notify -----------------------------------------------------------

TEST_CASE("timer-notify: arming the earliest timer ends the next poll phase at its first spin") {
    // As the timer-completions scenario, with the notifier on the poll list from start:
    //   it1 @0:       the list holds the notifier: a 50000 poll phase, then the wait.
    //   R at 100000:  wake at 105000, vq dispatch to 108000, the timer (128000) becomes
    //                 the earliest: the notifier is notified.
    //   it2 @108000:  budget 20000; the notifier ends the phase at the first spin
    //                 boundary, 109000, without progress; its dispatch costs nothing.
    //   it3 @109000:  budget 128000 - 109000 = 19000, polled to 128000, the timer fired:
    //                 timers only -> the guest at 129000.
    //   it4 @129000:  50000, then the wait (waits 2).
    const Run n = run(mech_config(timer_sets("fixed", "[timer-completions, timer-notify]")), {{100'000, 0}});
    CHECK(n.done.at[0] == 129'000);
    CHECK(n.stats.iterations == 4);
    CHECK(n.stats.poll_phases == 4);
    CHECK(n.stats.poll_successes == 0);
    CHECK(n.stats.sum_poll_max_ns == 50'000 + 20'000 + 19'000 + 50'000);
    CHECK(n.stats.spins == 50 + 1 + 19 + 50);
    CHECK(n.stats.wasted_poll_ns == 120'000);
    CHECK(n.stats.waits == 2);
    CHECK(n.stats.wakeups == 1);
    CHECK(n.trace.find("0.000108:run_poll_handlers_begin ctx 0 max_ns 20000 timeout 20000\n"
                       "0.000109:run_poll_handlers_end ctx 0 progress 0\n"
                       "0.000109:run_poll_handlers_begin ctx 0 max_ns 19000 timeout 19000\n") != std::string::npos);

    // Against timer-completions alone (previous test case: phases 20000 and 50000,
    // no success): one phase more at start-up (the notifier is on the list) and one
    // more ended by the notify; still no success counted.
    const Run t = run(mech_config(timer_sets("fixed", "[timer-completions]")), {{100'000, 0}});
    CHECK(n.stats.poll_phases == t.stats.poll_phases + 2);
    CHECK(n.stats.poll_successes == t.stats.poll_successes);
    CHECK(n.stats.waits == t.stats.waits);
}

TEST_CASE("timer-notify: without a poll phase the notified iteration skips its wait") {
    // none policy (T = 0 always).
    //   it1 @0:       wait (waits 1); R at 100000 wakes it at 105000; vq dispatch to
    //                 108000 arms the timer (128000) and notifies.
    //   it2 @108000:  no poll phase; notified: the wait is skipped, nothing runs.
    //   it3 @108000:  wait (waits 2) until the timer at 128000, wake at 133000,
    //                 timers: 1000 -> the guest at 134000.
    //   it4 @134000:  wait (waits 3).
    // timer-completions alone: it2 is the wait until 128000: the same waits and
    // completion, one iteration fewer.
    const Run n = run(mech_config(timer_sets("none", "[timer-completions, timer-notify]")), {{100'000, 0}});
    const Run t = run(mech_config(timer_sets("none", "[timer-completions]")), {{100'000, 0}});
    CHECK(n.done.at[0] == 134'000);
    CHECK(t.done.at[0] == 134'000);
    CHECK(n.stats.iterations == 4);
    CHECK(t.stats.iterations == 3);
    CHECK(n.stats.waits == 3);
    CHECK(t.stats.waits == 3);
    CHECK(n.stats.poll_phases == 0);
    CHECK(n.stats.wakeups == 2);
}

TEST_CASE("dispatch-poll-gate: no poll after a dispatch whose timer is behind an older one") {
    // fixed 50000, timer-completions, R1 at 100000 and R2 at 110000 (device 0):
    //   it1 @0:       nothing on the poll list: wait (waits 1); R1 wakes it at 105000,
    //                 vq dispatch to 108000 arms 128000, the earliest: no gate.
    //   it2 @108000:  budget min(50000, 20000) = 20000; R2 at 110000 ends the phase at
    //                 the 2nd spin (110000), success; dispatch to 113000 arms 133000
    //                 behind 128000: the gate closes the next poll.
    //   it3 @113000:  no poll: wait (waits 2) until 128000, timer wake-up 5000 ->
    //                 133000, when 133000 has fired too: both completions, 2 * 700 +
    //                 300 (one device) -> the guest at 134700.
    //   it4 @134700:  a 50000 phase to 184700, nothing; wait (waits 3) to the end.
    // Without the gate it3 polls 15000 up to 128000 (timer: R1 at 129000), it4
    // polls 4000 up to 133000 (R2 at 134000), it5 polls 50000 and waits (waits 2).
    const Run g = run(mech_config(timer_sets("fixed", "[timer-completions, dispatch-poll-gate]")),
                      {{100'000, 0}, {110'000, 0}});
    CHECK(g.done.at[0] == 134'700);
    CHECK(g.done.at[1] == 134'700);
    CHECK(g.stats.poll_phases == 2);
    CHECK(g.stats.poll_successes == 1);
    CHECK(g.stats.sum_poll_max_ns == 20'000 + 50'000);
    CHECK(g.stats.waits == 3);

    const Run t = run(mech_config(timer_sets("fixed", "[timer-completions]")), {{100'000, 0}, {110'000, 0}});
    CHECK(t.done.at[0] == 129'000);
    CHECK(t.done.at[1] == 134'000);
    CHECK(t.stats.poll_phases == 4);
    CHECK(t.stats.sum_poll_max_ns == 20'000 + 15'000 + 4'000 + 50'000);
    CHECK(t.stats.waits == 2);
}

TEST_CASE("timer_wakeup_latency_ns applies to wake-ups by a deadline, wakeup_latency_ns to those by an fd") {
    // none policy, timer-completions, fd wake-up 5000, timer wake-up 9000:
    //   R at 100000: fd wake-up to 105000, dispatch to 108000, deadline 128000;
    //   the timer wakes the thread at 128000 + 9000 = 137000, completion 1000 ->
    //   the guest at 138000 (with one latency for both: 134000).
    std::vector<std::string> sets = timer_sets("none", "[timer-completions]");
    sets.push_back("costs.timer_wakeup_latency_ns=9us");
    const Run r = run(mech_config(sets), {{100'000, 0}});
    CHECK(r.done.at[0] == 138'000);
    const Run same = run(mech_config(timer_sets("none", "[timer-completions]")), {{100'000, 0}});
    CHECK(same.done.at[0] == 134'000);
}

TEST_CASE("a recorded latency sets the wake-up on that request's timer") {
    // none policy, timer-completions, service 20 us, wake-up CPU 0: R at 100000,
    // fd wake-up to 105000, dispatch to 108000, deadline 128000. Recorded
    // submit-to-complete 70000: the timer wake-up lasts 70000 - 20000 = 50000, to
    // 178000; completion 700 + 300 -> the guest at 179000 (profile draw: 134000).
    class Recorded final : public Workload {
    public:
        void start(GuestApi& g) override { g.timer_at(100'000, 0); }
        void on_timer(GuestApi& g, uint64_t) override {
            IoRequest req;
            req.recorded_latency_ns = 70'000;
            g.submit(req);
        }
        void on_complete(GuestApi&, const IoRequest&) override {}
    };
    Run r;
    const Config c = mech_config(timer_sets("none", "[timer-completions]"));  // Simulation keeps a reference
    Simulation sim(c, 0, std::make_unique<Recorded>(), &r.done);
    r.stats = sim.run().contexts.at(0);
    CHECK(r.done.at[0] == 179'000);
    CHECK(r.stats.completed == 1);
}

// ---- names and configuration ------------------------------------------------

TEST_CASE("resolve_mechanisms accepts the known names in any order and refuses the rest") {
    const Mechanisms none = resolve_mechanisms({});
    CHECK_FALSE(none.timer_completions);
    CHECK_FALSE(none.timer_notify);
    const Mechanisms both = resolve_mechanisms({"timer-notify", "timer-completions"});
    CHECK(both.timer_completions);
    CHECK(both.timer_notify);
    CHECK(mechanism_list(both) == std::vector<std::string>{"timer-completions", "timer-notify"});
    CHECK(mechanism_list(none).empty());

    auto message = [](std::vector<std::string> names) -> std::string {
        try {
            resolve_mechanisms(names);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "";
    };
    const std::string unknown = message({"timer-completions", "irq-coalescing"});
    CHECK(unknown.find("unknown mechanism 'irq-coalescing'") != std::string::npos);
    CHECK(unknown.find("timer-completions") != std::string::npos);  // lists the known ones
    CHECK(message({"timer-completions", "timer-completions"}).find("'timer-completions' is listed twice") !=
          std::string::npos);
    CHECK(message({"timer-notify"}).find("needs 'timer-completions'") != std::string::npos);
}

TEST_CASE("a bad mechanisms list names file, line and key") {
    const std::vector<std::string> sets = {"profile=" POLLSIM_TEST_DATA "/profiles/zero.yaml"};
    // Config file: the value's position.
    std::string e = input_error_of([&] { load_config_text("policy: fixed\nmechanisms: [timer-notify]\n", "cfg.yaml", ".", sets); });
    CHECK(e.find("cfg.yaml:2:13: key 'mechanisms'") != std::string::npos);
    CHECK(e.find("needs 'timer-completions'") != std::string::npos);
    e = input_error_of([&] { load_config_text("mechanisms: [timer-completions, bogus]\n", "cfg.yaml", ".", sets); });
    CHECK(e.find("cfg.yaml:1:") != std::string::npos);
    CHECK(e.find("key 'mechanisms'") != std::string::npos);
    CHECK(e.find("unknown mechanism 'bogus'") != std::string::npos);
    e = input_error_of([&] { load_config_text("mechanisms: timer-completions\n", "cfg.yaml", ".", sets); });
    CHECK(e.find("cfg.yaml:1:") != std::string::npos);
    CHECK(e.find("key 'mechanisms'") != std::string::npos);
    CHECK(e.find("expected a list") != std::string::npos);
    // --set: the key (its position is checked below).
    std::vector<std::string> bad = sets;
    bad.push_back("mechanisms=[timer-completions, timer-completions]");
    e = input_error_of([&] { load_config_text("{}", "cfg.yaml", ".", bad); });
    CHECK(e.find("key 'mechanisms'") != std::string::npos);
    CHECK(e.find("listed twice") != std::string::npos);

    // A profile's list.
    ScratchDir dir("mechanisms-profile");
    const std::string profile = dir.write("p.yaml",
                                          "name: p\n"
                                          "service: {read: 1ms, write: 1ms, randread: 1ms, randwrite: 1ms}\n"
                                          "mechanisms: [timer-completions, nope]\n");
    e = input_error_of([&] { load_config_text("{}", "cfg.yaml", ".", {"profile=" + profile}); });
    CHECK(e.find(profile + ":3:") != std::string::npos);
    CHECK(e.find("key 'mechanisms'") != std::string::npos);
    CHECK(e.find("unknown mechanism 'nope'") != std::string::npos);
    // The config's list replaces a profile's, even an empty one.
    const std::string good = dir.write("q.yaml",
                                       "name: q\n"
                                       "service: {read: 1ms, write: 1ms, randread: 1ms, randwrite: 1ms}\n"
                                       "mechanisms: [timer-completions, timer-notify]\n");
    const Config c = load_config_text("mechanisms: [timer-completions]\n", "cfg.yaml", ".", {"profile=" + good});
    CHECK(c.profile.mechanisms.timer_completions);
    CHECK_FALSE(c.profile.mechanisms.timer_notify);
    CHECK(load_config_text("{}", "cfg.yaml", ".", {"profile=" + good}).profile.mechanisms.timer_notify);
}

// A list given with --set must not keep the marks of YAML::Load(value)
// (line 0, column 0): yaml_where() would blame "CONFIG:1:1" instead of
// "--set" (issue 10 item 10: `--set 'policy=[a,b]'`).
TEST_CASE("a bad mechanisms list given with --set is blamed on --set, not the config file") {
    const std::string e = input_error_of([] {
        load_config_text("{}", "cfg.yaml", ".",
                         {"profile=" POLLSIM_TEST_DATA "/profiles/zero.yaml", "mechanisms=[timer-notify]"});
    });
    CHECK(e.find("--set: key 'mechanisms'") != std::string::npos);
    CHECK(e.find("cfg.yaml:1:1") == std::string::npos);
}
