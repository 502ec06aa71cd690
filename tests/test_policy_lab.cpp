// Policy lab (issue 12 items 3 and 4): ski-rental, ski-rental-random,
// kvm-halt-poll and haltpoll. Every expected value is worked out by hand from
// the rule each policy's file cites; the arithmetic is in the comments.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "policies/policies.h"
#include "sim/cli/policy_trace.h"
#include "sim/config.h"
#include "sim/policy.h"

using namespace pollsim;

namespace {

// One context-wide policy driven by hand: one handler, dispatched every step.
struct Lab {
    std::unique_ptr<Policy> policy;
    PolicyCounters counters;
    std::vector<int> poll_list{0};
    std::vector<uint8_t> dispatched{1};

    explicit Lab(const char* name, const std::string& props = "") {
        const PolicyOps* ops = find_policy(name);
        REQUIRE(ops != nullptr);
        PolicyParams given;
        parse_iothread_properties(props, given);
        policy = ops->create(resolve_policy_params(*ops, given));
        policy->handler_joined(0);
    }
    int64_t step(int64_t block_ns) {
        policy->update(block_ns, poll_list, dispatched, counters);
        return policy->poll_ns();
    }
};

// The cost model of the ski-rental problem, made explicit. One wait of gap g
// (from the iteration's start until work is visible) under a poll budget T:
//   g <= T: the poll finds the work, cost g (CPU spent polling);
//   g >  T: the poll gives up at T and the thread sleeps, cost T + S,
//           S = B the CPU of going to sleep (final check + syscall + wakeup).
// The offline optimum knows g: min(g, S) (poll to it, or sleep at once).
int64_t online_cost(int64_t gap, int64_t t, int64_t b) { return gap <= t ? gap : t + b; }
int64_t offline_cost(int64_t gap, int64_t b) { return std::min(gap, b); }

// Block time the engine would report for that wait (only its size relative to
// T matters to these policies): the gap if polled, else the gap plus sleep.
int64_t block_of(int64_t gap, int64_t t, int64_t b) { return gap <= t ? gap : gap + b; }

// Adversarial gap sequences for break-even B: at and just past the
// threshold (the worst case of the deterministic rule), tiny gaps, gaps of
// many B, and a mix.
std::vector<std::vector<int64_t>> adversarial_gaps(int64_t b) {
    std::vector<int64_t> just_past(200, b + 1), at(200, b), tiny(200, 1), long_gaps(200, 50 * b), mix;
    for (int i = 0; i < 400; ++i) {
        const int64_t g[] = {b + 1, 1, b, b / 2, 3 * b, b - 1, 0, b + 1};
        mix.push_back(g[i % 8]);
    }
    return {just_past, at, tiny, long_gaps, mix};
}

}  // namespace

// ---------------------------------------------------------------- ski-rental

TEST_CASE("ski-rental: default B is the sleep CPU of the embedded default set-up") {
    // configs/default.yaml runs on s390x-fcp: poll_check 30, syscall 2us,
    // wakeup_cpu 3us; its poll list is 1 vq (numjobs 1) + cq = 2 handlers.
    const Config c = load_config(POLLSIM_SOURCE_DIR "/configs/default.yaml");
    REQUIRE(c.profile.poll_check_ns.is_constant());
    REQUIRE(c.profile.syscall_ns.is_constant());
    REQUIRE(c.profile.wakeup_cpu_ns.is_constant());
    // 2 * 30 + 2000 + 3000 = 5060.
    const int64_t sleep_cpu = 2 * c.profile.poll_check_ns.constant_ns() + c.profile.syscall_ns.constant_ns() +
                              c.profile.wakeup_cpu_ns.constant_ns();
    CHECK(sleep_cpu == 5060);
    CHECK(kSkiRentalDefaultB == sleep_cpu);
    for (const char* name : {"ski-rental", "ski-rental-random"})
        CHECK(resolve_policy_params(*find_policy(name), {}).poll_max_ns == 5060);
}

TEST_CASE("ski-rental: polls for B every iteration, whatever the block time") {
    Lab d("ski-rental");
    CHECK(d.policy->poll_ns() == 5060);
    for (int64_t block : {0, 1, 5060, 5061, 1000000}) CHECK(d.step(block) == 5060);
    CHECK(d.counters.updates == 0);  // no grow/shrink rule, nothing to count
    Lab z("ski-rental", "poll-max-ns=0");
    CHECK(z.policy->poll_ns() == 0);
    CHECK(z.step(100) == 0);
}

TEST_CASE("ski-rental: within 2x of the offline optimum on adversarial gaps") {
    for (int64_t b : {int64_t{5060}, int64_t{32768}, int64_t{1}}) {
        for (const auto& gaps : adversarial_gaps(b)) {
            Lab d("ski-rental", "poll-max-ns=" + std::to_string(b));
            int64_t online = 0, offline = 0;
            for (int64_t g : gaps) {
                const int64_t t = d.policy->poll_ns();
                const int64_t on = online_cost(g, t, b), off = offline_cost(g, b);
                CHECK(on <= 2 * off);  // per wait: g <= B costs g = opt; g > B costs 2B = 2 opt
                online += on;
                offline += off;
                d.step(block_of(g, t, b));
            }
            CHECK(online <= 2 * offline);
        }
        // Tightness: g = B + 1 every time costs B + B against B, exactly 2.
        Lab d("ski-rental", "poll-max-ns=" + std::to_string(b));
        CHECK(online_cost(b + 1, d.policy->poll_ns(), b) == 2 * offline_cost(b + 1, b));
    }
}

TEST_CASE("ski-rental: the adaptive grow/shrink rules are not 2-competitive on the same model") {
    // legacy-global at its defaults against gaps just past its poll time: it
    // polls 4000 and misses 4001 (cost 4000 + B) where the optimum pays
    // min(4001, B). With B = 5060: 9060 / 4001 = 2.26 > 2. Shows the test has
    // teeth: the bound is a property of the break-even rule.
    Lab d("legacy-global");
    const int64_t b = 5060;
    d.step(1000);  // 0 -> 4000
    REQUIRE(d.policy->poll_ns() == 4000);
    CHECK(online_cost(4001, 4000, b) > 2 * offline_cost(4001, b));
}

// ---------------------------------------------------------------- ski-rental-random

TEST_CASE("ski-rental-random: thresholds in [0, B], distributed as e^(x/B)/(B(e-1))") {
    const int64_t b = 10000;
    Lab d("ski-rental-random", "poll-max-ns=10000");
    const int n = 200000;
    std::vector<int64_t> t;
    t.reserve(n);
    for (int i = 0; i < n; ++i) {
        t.push_back(d.policy->poll_ns());
        d.step(1);
    }
    CHECK(*std::min_element(t.begin(), t.end()) >= 0);
    CHECK(*std::max_element(t.begin(), t.end()) <= b);
    // CDF F(x) = (e^(x/B) - 1) / (e - 1): F(B/4) = 0.1647, F(B/2) = 0.3775,
    // F(3B/4) = 0.6503. Whole-ns truncation moves each by < 1e-4; the
    // sampling error of 200000 draws is ~0.001 (sd), so 0.005 is 5 sd.
    const double e = std::exp(1.0);
    for (double q : {0.25, 0.5, 0.75}) {
        const double x = q * b;
        const double want = (std::exp(q) - 1) / (e - 1);
        const double got = static_cast<double>(std::count_if(t.begin(), t.end(), [&](int64_t v) { return v <= x; })) / n;
        INFO("F(" << q << " B): want " << want << ", got " << got);
        CHECK(std::abs(got - want) < 0.005);
    }
    // Mean, with u = x/B: E[x] = B/(e-1) int_0^1 u e^u du = B/(e-1) [(u-1) e^u]_0^1
    // = B/(e-1) (0 - (-1)) = B/(e-1) = 5820 for B = 10000.
    double mean = 0;
    for (int64_t v : t) mean += static_cast<double>(v);
    mean /= n;
    CHECK(mean == doctest::Approx(b / (e - 1)).epsilon(0.01));
}

// Exact expected cost of one wait of gap g under ski-rental-random's
// thresholds t = floor(x), x with CDF F(x) = (e^(x/B) - 1)/(e - 1) on [0, B]
// (the distribution the previous test checks the policy's draws against).
// For whole g, t < g exactly when x < g, so P(t = k) = F(k + 1) - F(k) and
//   E[cost] = sum_{k < g} P(t = k) (k + B) + (1 - F(g)) g.
double expected_random_cost(int64_t g, int64_t b) {
    const double e = std::exp(1.0);
    auto F = [&](int64_t x) { return x >= b ? 1.0 : (std::exp(static_cast<double>(x) / b) - 1) / (e - 1); };
    double cost = 0;
    for (int64_t k = 0; k < std::min(g, b + 1); ++k) cost += (F(k + 1) - F(k)) * static_cast<double>(k + b);
    return cost + (1 - F(g)) * static_cast<double>(g);
}

TEST_CASE("ski-rental-random: expected cost within e/(e-1) of the optimum on adversarial gaps") {
    // Continuous thresholds equalise the expected cost for every gap g:
    //   g <  B: int_0^g (x + B) p(x) dx + g (1 - F(g)) = g e/(e-1)
    //   g >= B: int_0^B (x + B) p(x) dx = B e/(e-1)
    // so E[cost] = e/(e-1) min(g, B) = 1.582 opt. Whole-ns thresholds only
    // lower the cost of the waits that sleep (floor(x) <= x).
    const int64_t b = 5060;
    const double bound = std::exp(1.0) / (std::exp(1.0) - 1);
    SUBCASE("exactly, for every gap of an adversarial sequence") {
        for (int64_t g : {int64_t{1}, int64_t{2}, int64_t{7}, b / 4, b / 2, b - 1, b, b + 1, 2 * b, 50 * b}) {
            const double ratio = expected_random_cost(g, b) / static_cast<double>(offline_cost(g, b));
            INFO("gap " << g << ": expected ratio " << ratio);
            CHECK(ratio <= bound + 1e-9);
            if (g >= b) CHECK(ratio >= bound - 0.001);  // tight: floor(x) moves it by < 1/B
        }
        for (const auto& gaps : adversarial_gaps(b)) {
            double online = 0, offline = 0;
            for (int64_t g : gaps) {
                online += expected_random_cost(g, b);
                offline += static_cast<double>(offline_cost(g, b));
            }
            if (offline > 0) CHECK(online / offline <= bound + 1e-9);
        }
    }
    SUBCASE("measured on the policy's own draws") {
        // 100000 waits per gap; where the sleeping branch is common enough
        // for the mean to settle (g >= B/4: sd of the ratio ~0.5 %), within 2 %.
        // Tiny gaps sleep once in ~10^4 waits, too rare to measure: the
        // exact subcase covers them.
        for (int64_t g : {b / 4, b / 2, b - 1, b, b + 1, 10 * b}) {
            Lab d("ski-rental-random");
            double online = 0, offline = 0;
            for (int i = 0; i < 100000; ++i) {
                const int64_t t = d.policy->poll_ns();
                online += static_cast<double>(online_cost(g, t, b));
                offline += static_cast<double>(offline_cost(g, b));
                d.step(block_of(g, t, b));
            }
            INFO("gap " << g << ": ratio " << online / offline);
            CHECK(online / offline <= bound * 1.02);
            CHECK(online / offline >= bound * 0.98);
        }
    }
}

TEST_CASE("ski-rental-random: deterministic, and seed() changes the draws") {
    auto draws = [](Policy& p) {
        std::vector<int64_t> v;
        PolicyCounters c;
        for (int i = 0; i < 20; ++i) {
            v.push_back(p.poll_ns());
            p.update(1, {}, {}, c);
        }
        return v;
    };
    const PolicyOps& ops = *find_policy("ski-rental-random");
    auto a = ops.create(resolve_policy_params(ops, {}));
    auto b = ops.create(resolve_policy_params(ops, {}));
    CHECK(draws(*a) == draws(*b));  // same fixed default seed
    auto c = ops.create(resolve_policy_params(ops, {}));
    auto d = ops.create(resolve_policy_params(ops, {}));
    c->seed(42);
    d->seed(42);
    const auto dc = draws(*c);
    CHECK(dc == draws(*d));
    auto e = ops.create(resolve_policy_params(ops, {}));
    CHECK(dc != draws(*e));
    // Deterministic policies ignore seed().
    Lab k("kvm-halt-poll");
    k.policy->seed(7);
    CHECK(k.step(5000) == 10000);
}

// ---------------------------------------------------------------- kvm-halt-poll

TEST_CASE("kvm-halt-poll: defaults from virt/kvm/kvm_main.c (s390)") {
    const PolicyParams p = resolve_policy_params(*find_policy("kvm-halt-poll"), {});
    CHECK(p.poll_max_ns == 50000);      // KVM_HALT_POLL_NS_DEFAULT on s390
    CHECK(p.poll_grow == 2);            // halt_poll_ns_grow
    CHECK(p.poll_grow_start == 10000);  // halt_poll_ns_grow_start
    CHECK(p.poll_shrink == 2);          // halt_poll_ns_shrink
}

TEST_CASE("kvm-halt-poll: grow from grow_start, cap at max, shrink, off below grow_start") {
    Lab d("kvm-halt-poll");  // max 50000, grow 2, grow_start 10000, shrink 2
    CHECK(d.policy->poll_ns() == 0);
    // 5000 > 0; h == 0 so no shrink; 0 < max and 5000 < max: grow,
    // 0 * 2 = 0 -> at least grow_start 10000.
    CHECK(d.step(5000) == 10000);
    CHECK(d.step(8000) == 10000);   // 8000 <= 10000: covered, nothing
    CHECK(d.step(15000) == 20000);  // 15000 > 10000, < max: 10000 * 2
    CHECK(d.step(30000) == 40000);  // 20000 * 2
    CHECK(d.step(45000) == 50000);  // 40000 * 2 = 80000, capped at max 50000
    CHECK(d.step(50000) == 50000);  // 50000 <= 50000: covered
    CHECK(d.step(60000) == 25000);  // h != 0 and 60000 > max: 50000 / 2
    CHECK(d.step(60000) == 12500);  // 25000 / 2
    CHECK(d.step(60000) == 0);      // 12500 / 2 = 6250 < grow_start 10000: 0
    // h == 0: no shrink branch; 60000 < max fails: no grow. Stays 0.
    CHECK(d.step(60000) == 0);
    CHECK(d.counters.updates == 10);
    CHECK(d.counters.grows == 4);
    CHECK(d.counters.shrinks == 3);
    CHECK(d.counters.resets == 2);  // the two steps that ended at 0
}

TEST_CASE("kvm-halt-poll: block_ns == max does not grow, grow 0 never grows, shrink 0 resets, max 0 off") {
    SUBCASE("block_ns == max") {
        Lab d("kvm-halt-poll");
        CHECK(d.step(50000) == 0);  // 50000 < 50000 fails
        CHECK(d.counters.grows == 0);
    }
    SUBCASE("poll-grow=0") {
        Lab d("kvm-halt-poll", "poll-grow=0");
        CHECK(d.step(5000) == 0);  // grow branch taken, but grow 0 leaves h (KVM's goto out)
        CHECK(d.counters.grows == 1);
    }
    SUBCASE("poll-shrink=0") {
        Lab d("kvm-halt-poll", "poll-shrink=0");
        CHECK(d.step(5000) == 10000);
        CHECK(d.step(70000) == 0);  // shrink 0: reset
    }
    SUBCASE("poll-grow-start=0, grow 3, max 100000") {
        Lab d("kvm-halt-poll", "poll-grow-start=0,poll-grow=3,poll-max-ns=100000");
        CHECK(d.step(5000) == 0);  // 0 * 3 = 0, at least grow_start 0: stays 0
    }
    SUBCASE("grow_start above max is capped") {
        Lab d("kvm-halt-poll", "poll-max-ns=8000");  // grow_start 10000
        CHECK(d.step(1000) == 8000);  // max(0, 10000) = 10000, capped at 8000
    }
    SUBCASE("poll-max-ns=0") {
        Lab d("kvm-halt-poll", "poll-max-ns=0");
        CHECK(d.step(1000) == 0);
        CHECK(d.counters.updates == 0);
    }
}

// ---------------------------------------------------------------- haltpoll

TEST_CASE("haltpoll: defaults from drivers/cpuidle/governors/haltpoll.c") {
    const PolicyParams p = resolve_policy_params(*find_policy("haltpoll"), {});
    CHECK(p.poll_max_ns == 200000);     // guest_halt_poll_ns
    CHECK(p.poll_grow == 2);            // guest_halt_poll_grow
    CHECK(p.poll_shrink == 2);          // guest_halt_poll_shrink
    CHECK(p.poll_grow_start == 50000);  // guest_halt_poll_grow_start
    CHECK(p.poll_allow_shrink == 1);    // guest_halt_poll_allow_shrink
}

TEST_CASE("haltpoll: adjusts on the halt residency only, grows from grow_start, shrinks past max") {
    Lab d("haltpoll");  // max 200000, grow 2, shrink 2, grow_start 50000, allow_shrink
    // L = 0: block 30000 > 0 is a halt of 30000; 0 < 30000 <= max: grow,
    // 0 * 2 = 0 -> at least 50000.
    CHECK(d.step(30000) == 50000);
    // 40000 <= L 50000: the poll saw the event, no adjustment (not an update).
    CHECK(d.step(40000) == 50000);
    // 80000 > 50000: halt of 80000 - 50000 = 30000; 30000 > L fails, 30000 >
    // max fails: no change (an update with no branch).
    CHECK(d.step(80000) == 50000);
    // halt 150000 - 50000 = 100000 > 50000, <= max: 50000 * 2 = 100000.
    CHECK(d.step(150000) == 100000);
    // halt 250000 - 100000 = 150000 > 100000: 200000 (not above max).
    CHECK(d.step(250000) == 200000);
    // halt 500000 - 200000 = 300000 > max: 200000 / 2.
    CHECK(d.step(500000) == 100000);
    // halt 1000000 - 100000 = 900000 > max: 50000.
    CHECK(d.step(1000000) == 50000);
    // halt 950000 > max: 25000 (this source has no reset below grow_start).
    CHECK(d.step(1000000) == 25000);
    CHECK(d.counters.updates == 7);
    CHECK(d.counters.grows == 3);
    CHECK(d.counters.shrinks == 3);
    CHECK(d.counters.resets == 0);
}

TEST_CASE("haltpoll: grow is capped at max, allow_shrink 0 keeps the limit, shrink 0 resets, grow 0") {
    SUBCASE("cap") {
        Lab d("haltpoll", "poll-max-ns=120000");
        CHECK(d.step(30000) == 50000);   // halt 30000: 50000
        CHECK(d.step(150000) == 100000); // halt 100000 > 50000, <= 120000: 100000
        CHECK(d.step(220000) == 120000); // halt 120000 > 100000, <= 120000: 200000 capped at 120000
    }
    SUBCASE("poll-allow-shrink=0") {
        Lab d("haltpoll", "poll-allow-shrink=0");
        CHECK(d.step(30000) == 50000);
        CHECK(d.step(1000000) == 50000);  // halt 950000 > max, but shrinking is off
        CHECK(d.counters.shrinks == 0);
    }
    SUBCASE("poll-shrink=0") {
        Lab d("haltpoll", "poll-shrink=0");
        CHECK(d.step(30000) == 50000);
        CHECK(d.step(1000000) == 0);  // shrink 0: 0
        CHECK(d.counters.resets == 1);
    }
    SUBCASE("poll-grow=0 is literal: the product 0 is raised to grow_start") {
        Lab d("haltpoll", "poll-grow=0");
        CHECK(d.step(30000) == 50000);
        CHECK(d.step(150000) == 50000);  // halt 100000 > 50000: 50000 * 0 = 0 -> 50000
    }
    SUBCASE("poll-max-ns=0") {
        Lab d("haltpoll", "poll-max-ns=0");
        CHECK(d.step(30000) == 0);
        CHECK(d.counters.updates == 0);
    }
}

// ---------------------------------------------------------------- parameters

TEST_CASE("poll-grow-start and poll-allow-shrink: parsing and range checks") {
    PolicyParams p;
    parse_iothread_properties("poll-grow-start=20000,poll-allow-shrink=0", p);
    CHECK(p.poll_grow_start == 20000);
    CHECK(p.poll_allow_shrink == 0);
    auto message = [](const char* text) -> std::string {
        PolicyParams q;
        try {
            parse_iothread_properties(text, q);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "(no error)";
    };
    CHECK(message("poll-allow-shrink=2") == "poll-allow-shrink must be 0 or 1, got 2");
    CHECK(message("poll-allow-shrink=-1") == "poll-allow-shrink must be 0 or 1, got -1");
    CHECK(message("poll-grow-start=-5") == "poll-grow-start must be >= 0, got -5");
    CHECK(message("poll-start=1").find("poll-grow-start, poll-allow-shrink") != std::string::npos);
    // resolve_policy_params checks them too (a PolicyParams built in code).
    PolicyParams bad;
    bad.poll_allow_shrink = 5;
    CHECK_THROWS_WITH_AS(resolve_policy_params(*find_policy("haltpoll"), bad),
                         "poll-allow-shrink must be 0 or 1, got 5", std::invalid_argument);
    // QEMU's policies take 0 for both and ignore them.
    const PolicyParams w = resolve_policy_params(*find_policy("weighted"), {});
    CHECK(w.poll_grow_start == 0);
    CHECK(w.poll_allow_shrink == 0);
}

// ---------------------------------------------------------------- policy-trace

namespace {

std::string trace_out(const std::string& input, const std::string& policy, const std::string& props, int* rc) {
    std::istringstream in(input);
    std::ostringstream out, err;
    *rc = run_policy_trace(in, out, err, policy, props, "in.jsonl");
    return out.str();
}

}  // namespace

TEST_CASE("policy-trace: kvm-halt-poll transcript with --iothread") {
    int rc = -1;
    const std::string out = trace_out(
        "{\"block_ns\": 1000, \"dispatched\": [\"vq0\"]}\n"
        "{\"block_ns\": 12000, \"dispatched\": [\"cq\"]}\n"
        "{\"block_ns\": 20000, \"dispatched\": []}\n"
        "{\"block_ns\": 45000, \"dispatched\": [\"vq0\"]}\n",
        "kvm-halt-poll", "poll-max-ns=40000,poll-grow-start=5000,poll-shrink=0", &rc);
    CHECK(rc == 0);
    // 0 -> max(0 * 2, 5000) = 5000; 12000 > 5000, < 40000: 10000; 20000 >
    // 10000: 20000; 45000 > max with h != 0: shrink 0 resets to 0.
    // Context-wide: no per-handler values.
    CHECK(out ==
          "{\"step\":0,\"poll_ns\":5000,\"handlers\":{}}\n"
          "{\"step\":1,\"poll_ns\":10000,\"handlers\":{}}\n"
          "{\"step\":2,\"poll_ns\":20000,\"handlers\":{}}\n"
          "{\"step\":3,\"poll_ns\":0,\"handlers\":{}}\n");
}

TEST_CASE("policy-trace: haltpoll transcript with --iothread") {
    int rc = -1;
    const std::string out = trace_out(
        "{\"block_ns\": 10000, \"dispatched\": [\"vq0\"]}\n"
        "{\"block_ns\": 15000, \"dispatched\": [\"vq0\"]}\n"
        "{\"block_ns\": 60000, \"dispatched\": [\"cq\"]}\n"
        "{\"block_ns\": 500000, \"dispatched\": [\"cq\"]}\n",
        "haltpoll", "poll-max-ns=100000,poll-grow-start=20000,poll-allow-shrink=0", &rc);
    CHECK(rc == 0);
    // halt 10000 > 0: 20000; 15000 <= 20000: polled, no change; halt
    // 60000 - 20000 = 40000 > 20000: 40000; halt 460000 > max but shrinking
    // is off: 40000.
    CHECK(out ==
          "{\"step\":0,\"poll_ns\":20000,\"handlers\":{}}\n"
          "{\"step\":1,\"poll_ns\":20000,\"handlers\":{}}\n"
          "{\"step\":2,\"poll_ns\":40000,\"handlers\":{}}\n"
          "{\"step\":3,\"poll_ns\":40000,\"handlers\":{}}\n");
}

TEST_CASE("policy-trace: ski-rental and ski-rental-random") {
    const std::string input =
        "{\"block_ns\": 1000, \"dispatched\": [\"vq0\"]}\n"
        "{\"block_ns\": 90000, \"dispatched\": [\"cq\"]}\n"
        "{\"block_ns\": 3000, \"dispatched\": []}\n";
    int rc = -1;
    CHECK(trace_out(input, "ski-rental", "", &rc) ==
          "{\"step\":0,\"poll_ns\":5060,\"handlers\":{}}\n"
          "{\"step\":1,\"poll_ns\":5060,\"handlers\":{}}\n"
          "{\"step\":2,\"poll_ns\":5060,\"handlers\":{}}\n");
    CHECK(rc == 0);
    CHECK(trace_out(input, "ski-rental-random", "poll-max-ns=0", &rc) ==
          "{\"step\":0,\"poll_ns\":0,\"handlers\":{}}\n"
          "{\"step\":1,\"poll_ns\":0,\"handlers\":{}}\n"
          "{\"step\":2,\"poll_ns\":0,\"handlers\":{}}\n");
    // Random thresholds: reproducible run to run, each in [0, B].
    const std::string a = trace_out(input, "ski-rental-random", "", &rc);
    CHECK(rc == 0);
    CHECK(a == trace_out(input, "ski-rental-random", "", &rc));
    std::istringstream lines(a);
    std::string line;
    int n = 0;
    while (std::getline(lines, line)) {
        const auto at = line.find("\"poll_ns\":") + 10;
        const int64_t v = std::stoll(line.substr(at));
        CHECK(v >= 0);
        CHECK(v <= 5060);
        ++n;
    }
    CHECK(n == 3);
}
