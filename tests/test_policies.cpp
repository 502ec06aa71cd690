// Policies of DESIGN §5 and `pollsim policy-trace`. Every expected value below
// was worked out by hand from the rules in DESIGN §5; the arithmetic is in the
// comments so that a failure can be checked against the page, not the code.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "sim/cli/policy_trace.h"
#include "sim/policy.h"

using namespace pollsim;

namespace {

// Plays the engine's part: handlers join the poll list on first dispatch
// (before the update), and the poll list keeps the order of joining.
struct Driver {
    std::unique_ptr<Policy> policy;
    PolicyCounters counters;
    std::vector<int> poll_list;

    explicit Driver(const char* name, PolicyParams given = {}) {
        const PolicyOps* ops = find_policy(name);
        REQUIRE(ops != nullptr);
        policy = ops->create(resolve_policy_params(*ops, given));
    }

    // Runs one iteration and returns the poll time of the next one.
    int64_t step(int64_t block_ns, std::vector<int> dispatched_handlers) {
        for (int h : dispatched_handlers) {
            if (std::find(poll_list.begin(), poll_list.end(), h) == poll_list.end()) {
                poll_list.push_back(h);
                policy->handler_joined(h);
            }
        }
        std::vector<uint8_t> dispatched(poll_list.size(), 0);
        for (size_t i = 0; i < poll_list.size(); ++i)
            dispatched[i] = std::count(dispatched_handlers.begin(), dispatched_handlers.end(), poll_list[i]) > 0;
        policy->update(block_ns, poll_list, dispatched, counters);
        return policy->poll_ns();
    }

    int64_t h(int handler) const { return policy->handler_ns(handler).value(); }
};

PolicyParams params(int64_t max_ns, int64_t grow, int64_t shrink, int64_t weight) {
    return PolicyParams{max_ns, grow, shrink, weight};
}

}  // namespace

// ---------------------------------------------------------------- legacy-global

TEST_CASE("legacy-global: grows from 0 to 4000, doubles, caps at max") {
    Driver d("legacy-global");  // max 32768, grow 0 (= 2), shrink 0
    CHECK(d.policy->poll_ns() == 0);
    // 1000 > 0, not > max, 0 < max and 1000 < max: ns = 4000 (first grow).
    CHECK(d.step(1000, {0}) == 4000);
    // 5000 > 4000: ns = 4000 * 2 = 8000.
    CHECK(d.step(5000, {0}) == 8000);
    // 10000 > 8000: 16000.
    CHECK(d.step(10000, {0}) == 16000);
    // 20000 > 16000: 32000.
    CHECK(d.step(20000, {0}) == 32000);
    // 30000 <= 32000: the sweet spot, no change.
    CHECK(d.step(30000, {0}) == 32000);
    // 32767 > 32000, < 32768: 64000 capped to min(64000, 32768) = 32768.
    CHECK(d.step(32767, {0}) == 32768);
    // block_ns == ns: 32768 <= 32768, no change.
    CHECK(d.step(32768, {0}) == 32768);
    // 7 updates, 5 grow branches, nothing ended at 0.
    CHECK(d.counters.updates == 7);
    CHECK(d.counters.grows == 5);
    CHECK(d.counters.shrinks == 0);
    CHECK(d.counters.resets == 0);
    CHECK_FALSE(d.policy->handler_ns(0).has_value());
}

TEST_CASE("legacy-global: grow factor 3 and max below 4000") {
    SUBCASE("grow 3") {
        Driver d("legacy-global", params(-1, 3, -1, -1));
        CHECK(d.step(1000, {0}) == 4000);    // 0 -> 4000
        CHECK(d.step(5000, {0}) == 12000);   // 4000 * 3
        CHECK(d.step(13000, {0}) == 32768);  // 12000 * 3 = 36000 -> min(36000, 32768)
    }
    SUBCASE("max 3000: the first grow of 4000 is capped") {
        Driver d("legacy-global", params(3000, -1, -1, -1));
        CHECK(d.step(1000, {0}) == 3000);  // 4000 -> min(4000, 3000)
    }
}

TEST_CASE("legacy-global: block_ns == max does not grow") {
    Driver d("legacy-global");
    // 32768 <= 0 no; 32768 > 32768 no; 0 < max yes but 32768 < 32768 no:
    // no branch taken, ns stays 0.
    CHECK(d.step(32768, {0}) == 0);
    CHECK(d.counters.updates == 1);
    CHECK(d.counters.grows == 0);
    CHECK(d.counters.shrinks == 0);
    CHECK(d.counters.resets == 1);  // the value was left at 0
    // One ns below max grows as usual.
    CHECK(d.step(32767, {0}) == 4000);
    CHECK(d.counters.grows == 1);
}

TEST_CASE("legacy-global: block_ns > max shrinks") {
    SUBCASE("shrink 0 resets to 0") {
        Driver d("legacy-global");
        CHECK(d.step(1000, {0}) == 4000);
        CHECK(d.step(5000, {0}) == 8000);
        // 40000 > 32768 and shrink == 0: ns = 0.
        CHECK(d.step(40000, {0}) == 0);
        CHECK(d.counters.updates == 3);
        CHECK(d.counters.grows == 2);
        CHECK(d.counters.shrinks == 1);
        CHECK(d.counters.resets == 1);
    }
    SUBCASE("shrink 2 halves") {
        Driver d("legacy-global", params(-1, -1, 2, -1));
        CHECK(d.step(1000, {0}) == 4000);
        CHECK(d.step(5000, {0}) == 8000);
        CHECK(d.step(10000, {0}) == 16000);
        CHECK(d.step(50000, {0}) == 8000);  // 16000 / 2
        CHECK(d.step(50000, {0}) == 4000);  // 8000 / 2
        CHECK(d.step(3000, {0}) == 4000);   // 3000 <= 4000: no change
        CHECK(d.step(100000, {0}) == 2000); // 4000 / 2
        CHECK(d.counters.updates == 7);
        CHECK(d.counters.grows == 3);
        CHECK(d.counters.shrinks == 3);
        CHECK(d.counters.resets == 0);
    }
    SUBCASE("shrink 3 truncates") {
        Driver d("legacy-global", params(-1, -1, 3, -1));
        CHECK(d.step(1000, {0}) == 4000);
        CHECK(d.step(40000, {0}) == 1333);  // 4000 / 3 = 1333 (3999), truncated
        CHECK(d.step(40000, {0}) == 444);   // 1333 / 3 = 444 (1332)
    }
}

TEST_CASE("legacy-global: poll-max-ns 0 never polls and never updates") {
    Driver d("legacy-global", params(0, -1, -1, -1));
    CHECK(d.step(1000, {0}) == 0);
    CHECK(d.step(100000, {0}) == 0);
    CHECK(d.counters.updates == 0);
    CHECK(d.counters.resets == 0);
    CHECK(d.counters.grows == 0);
    CHECK(d.counters.shrinks == 0);
}

TEST_CASE("legacy-global: ns * grow saturates instead of overflowing") {
    constexpr int64_t big = std::numeric_limits<int64_t>::max();
    Driver d("legacy-global", params(big, big, -1, -1));
    CHECK(d.step(1000, {0}) == 4000);
    // 4000 * INT64_MAX overflows: saturated to INT64_MAX, then min(.., max).
    CHECK(d.step(5000, {0}) == big);
}

// ---------------------------------------------------------------- legacy

TEST_CASE("legacy: per-handler values, poll time is the max over the poll list") {
    Driver d("legacy");  // max 32768, grow 2, shrink 0 (reset)
    // Both join and are dispatched; 1000 grows each from 0 to 4000.
    CHECK(d.step(1000, {0, 1}) == 4000);
    CHECK(d.h(0) == 4000);
    CHECK(d.h(1) == 4000);
    // Only handler 0: 5000 > 4000 -> 8000; handler 1 untouched at 4000.
    // Poll time = max(8000, 4000) = 8000.
    CHECK(d.step(5000, {0}) == 8000);
    CHECK(d.h(0) == 8000);
    CHECK(d.h(1) == 4000);
    // Only handler 1: 50000 > max, shrink 0 -> 0. max(8000, 0) = 8000.
    CHECK(d.step(50000, {1}) == 8000);
    CHECK(d.h(0) == 8000);
    CHECK(d.h(1) == 0);
    // Handler 2 joins in this very dispatch and is updated at once:
    // 0 -> 4000. Handler 0 is not dispatched and keeps 8000.
    CHECK(d.step(1000, {2}) == 8000);
    CHECK(d.h(2) == 4000);
    // Only handler 0: 40000 > max -> 0. max(0, 0, 4000) = 4000.
    CHECK(d.step(40000, {0}) == 4000);
    CHECK(d.h(0) == 0);
    // Rule applications: 2 + 1 + 1 + 1 + 1 = 6; grows: 2 (first step) + 1
    // (8000) + 1 (handler 2) = 4; shrinks 2, both leaving 0.
    CHECK(d.counters.updates == 6);
    CHECK(d.counters.grows == 4);
    CHECK(d.counters.shrinks == 2);
    CHECK(d.counters.resets == 2);
}

TEST_CASE("legacy: a handler leaving no longer holds up the max, and rejoining starts at 0") {
    Driver d("legacy");
    CHECK(d.step(1000, {0, 1}) == 4000);
    CHECK(d.step(5000, {0}) == 8000);  // h0 8000, h1 4000
    d.policy->handler_left(0);
    d.poll_list.erase(d.poll_list.begin());
    CHECK(d.policy->poll_ns() == 4000);
    // Rejoins with state 0: 1000 -> 4000 (not 8000 * 2).
    CHECK(d.step(1000, {0}) == 4000);
    CHECK(d.h(0) == 4000);
}

TEST_CASE("legacy: poll-max-ns 0 keeps every value at 0") {
    Driver d("legacy", params(0, -1, -1, -1));
    CHECK(d.step(1000, {0, 1}) == 0);
    CHECK(d.h(0) == 0);
    CHECK(d.h(1) == 0);
    CHECK(d.counters.updates == 0);
}

// ---------------------------------------------------------------- weighted

TEST_CASE("weighted: first update takes block_ns, then EWMA with w = 3") {
    Driver d("weighted");  // max 32768, grow 2, shrink 2, w 3
    // h.ns == 0 -> h.ns = 8000. best 8000 > ns 0:
    // ns = min(max(8000, 0 * 2), 32768) = 8000.
    CHECK(d.step(8000, {0}) == 8000);
    CHECK(d.h(0) == 8000);
    // h.ns = 8000 - (8000 >> 3) + (16000 >> 3) = 8000 - 1000 + 2000 = 9000.
    // best 9000 > 8000: ns = min(max(9000, 16000), 32768) = 16000 (ns*grow wins).
    CHECK(d.step(16000, {0}) == 16000);
    CHECK(d.h(0) == 9000);
    // h.ns = 9000 - 1125 + 125 = 8000. 8000 > 16000 no; 8000 < 16000 / 2 = 8000
    // no (strict <): unchanged.
    CHECK(d.step(1000, {0}) == 16000);
    CHECK(d.h(0) == 8000);
    // h.ns = 8000 - 1000 + 125 = 7125 < 8000: ns = 16000 / 2 = 8000.
    CHECK(d.step(1000, {0}) == 8000);
    CHECK(d.h(0) == 7125);
    // h.ns = 7125 - 890 + 125 = 6360 (7125 >> 3 = 890, 1001 >> 3 = 125).
    // 6360 < 8000 / 2 = 4000? no: unchanged.
    CHECK(d.step(1001, {0}) == 8000);
    CHECK(d.h(0) == 6360);
    CHECK(d.counters.updates == 5);
    CHECK(d.counters.grows == 2);
    CHECK(d.counters.shrinks == 1);
    CHECK(d.counters.resets == 0);
}

TEST_CASE("weighted: shifts truncate on small and odd values") {
    Driver d("weighted");
    // h = 7; ns = min(max(7, 0), max) = 7.
    CHECK(d.step(7, {0}) == 7);
    // h = 7 - (7 >> 3 = 0) + (7 >> 3 = 0) = 7. best == ns: no change.
    CHECK(d.step(7, {0}) == 7);
    CHECK(d.h(0) == 7);
    // h = 7 - 0 + (15 >> 3 = 1) = 8 > 7: ns = min(max(8, 14), max) = 14.
    CHECK(d.step(15, {0}) == 14);
    CHECK(d.h(0) == 8);
    // h = 8 - (8 >> 3 = 1) + 0 = 7. 7 > 14 no; 7 < 14 / 2 = 7 no (strict).
    CHECK(d.step(0, {0}) == 14);
    CHECK(d.h(0) == 7);
}

TEST_CASE("weighted: a non-dispatched handler ages until past max, then 0") {
    Driver d("weighted");
    // Both first samples: h0 = h1 = 10000, ns = 10000.
    CHECK(d.step(10000, {0, 1}) == 10000);
    // h0 = 10000 - 1250 + 1250 = 10000; h1 ages 10000 + 10000 = 20000.
    // best 10000 == ns: no change.
    CHECK(d.step(10000, {0}) == 10000);
    CHECK(d.h(1) == 20000);
    // h1 = 30000 <= 32768.
    CHECK(d.step(10000, {0}) == 10000);
    CHECK(d.h(1) == 30000);
    // h1 = 40000 > 32768 -> 0.
    CHECK(d.step(10000, {0}) == 10000);
    CHECK(d.h(1) == 0);
    // h1 == 0 does not age.
    CHECK(d.step(10000, {0}) == 10000);
    CHECK(d.h(1) == 0);
    CHECK(d.h(0) == 10000);
    // Updates: 2 + 4 * 1 = 6; the aging reset of h1 is not an update.
    CHECK(d.counters.updates == 6);
    CHECK(d.counters.resets == 0);
    CHECK(d.counters.grows == 1);
    CHECK(d.counters.shrinks == 0);
}

TEST_CASE("weighted: grow is min(max(best, ns * grow), max)") {
    Driver d("weighted");
    CHECK(d.step(1000, {0}) == 1000);  // h0 = 1000, ns = 1000
    // Handler 1 joins with first sample 20000; h0 ages to 1000 + 20000 = 21000.
    // best = 20000 (dispatched only): ns = min(max(20000, 2000), 32768) = 20000
    // (best wins over ns * grow).
    CHECK(d.step(20000, {1}) == 20000);
    CHECK(d.h(0) == 21000);
    CHECK(d.h(1) == 20000);
    // h1 = 20000 - 2500 + 3750 = 21250; h0 ages 21000 + 30000 = 51000 -> 0.
    // best 21250 > 20000: min(max(21250, 40000), 32768) = 32768 (the cap).
    CHECK(d.step(30000, {1}) == 32768);
    CHECK(d.h(0) == 0);
    CHECK(d.h(1) == 21250);
    CHECK(d.counters.grows == 3);
}

TEST_CASE("weighted: shrink rule best < ns / shrink is strict, and shrink 0 means 2") {
    SUBCASE("shrink 0 (= 2), w 1") {
        Driver d("weighted", params(-1, -1, 0, 1));
        CHECK(d.step(16000, {0}) == 16000);  // h = 16000, ns = 16000
        // h = 16000 - 8000 + 0 = 8000; 8000 < 16000 / 2 = 8000 no: unchanged.
        CHECK(d.step(0, {0}) == 16000);
        CHECK(d.h(0) == 8000);
        // h = 8000 - 4000 = 4000 < 8000: ns = 16000 / 2 = 8000.
        CHECK(d.step(0, {0}) == 8000);
        // h = 2000 < 4000: ns = 4000.
        CHECK(d.step(0, {0}) == 4000);
        CHECK(d.counters.shrinks == 2);
    }
    SUBCASE("shrink 4, w 1") {
        Driver d("weighted", params(-1, -1, 4, 1));
        CHECK(d.step(16000, {0}) == 16000);
        CHECK(d.step(0, {0}) == 16000);  // h 8000 < 16000 / 4 = 4000? no
        CHECK(d.step(0, {0}) == 16000);  // h 4000 < 4000? no (strict)
        CHECK(d.step(0, {0}) == 4000);   // h 2000 < 4000: ns = 16000 / 4
        CHECK(d.counters.shrinks == 1);
    }
}

TEST_CASE("weighted: weight 0 behaves as 3") {
    for (int64_t w : {0, 3}) {
        CAPTURE(w);
        Driver d("weighted", params(-1, -1, -1, w));
        CHECK(d.step(8000, {0}) == 8000);
        // 8000 - 1000 + 2000 = 9000, as with w = 3.
        CHECK(d.step(16000, {0}) == 16000);
        CHECK(d.h(0) == 9000);
    }
}

TEST_CASE("weighted: weight 63 keeps the first sample") {
    Driver d("weighted", params(-1, -1, -1, 63));
    CHECK(d.step(5000, {0}) == 5000);  // first sample: h = 5000, ns = 5000
    // x >> 63 == 0 for any non-negative int64: h = 5000 - 0 + 0 = 5000.
    // best == ns: no change.
    CHECK(d.step(30000, {0}) == 5000);
    CHECK(d.step(1000000, {0}) == 5000);  // even a block beyond max
    CHECK(d.h(0) == 5000);
    // Handler 1 joins; its first sample 40000 > max is dropped to 0 (a reset).
    // h0 is not dispatched and ages 5000 + 40000 = 45000 > max -> 0.
    // best 0 > ns 5000 no; 0 < 5000 / 2 yes: ns = 2500.
    CHECK(d.step(40000, {1}) == 2500);
    CHECK(d.h(1) == 0);
    CHECK(d.h(0) == 0);
    // h1 == 0 again takes the next sample as is: 1000. h0 == 0 does not age.
    // best 1000 < 2500 / 2 = 1250: ns = 1250.
    CHECK(d.step(1000, {1}) == 1250);
    CHECK(d.h(1) == 1000);
    CHECK(d.h(0) == 0);
    CHECK(d.counters.updates == 5);
    CHECK(d.counters.resets == 1);
    CHECK(d.counters.grows == 1);
    CHECK(d.counters.shrinks == 2);
}

TEST_CASE("weighted: best = -1 (no poll-list handler dispatched) leaves ns unchanged") {
    Driver d("weighted");
    CHECK(d.step(8000, {0}) == 8000);
    // Nothing dispatched: h0 ages 8000 + 1000 = 9000, best stays -1. Had best
    // been 0, 0 < 8000 / 2 would have shrunk ns.
    CHECK(d.step(1000, {}) == 8000);
    CHECK(d.h(0) == 9000);
    CHECK(d.counters.updates == 1);
    CHECK(d.counters.shrinks == 0);
}

TEST_CASE("weighted: block_ns 0 on a fresh handler is a reset") {
    Driver d("weighted");
    // h = 0 (first sample 0); best 0; 0 > 0 no; 0 < 0 / 2 no.
    CHECK(d.step(0, {0}) == 0);
    CHECK(d.counters.updates == 1);
    CHECK(d.counters.resets == 1);
    CHECK(d.counters.grows == 0);
    CHECK(d.counters.shrinks == 0);
}

TEST_CASE("weighted: poll-max-ns 0 never polls") {
    Driver d("weighted", params(0, -1, -1, -1));
    CHECK(d.step(1000, {0}) == 0);
    CHECK(d.step(1000, {0, 1}) == 0);
    CHECK(d.h(0) == 0);
    CHECK(d.h(1) == 0);
    CHECK(d.counters.updates == 0);
    CHECK(d.counters.grows == 0);
}

// ---------------------------------------------------------------- none, fixed

TEST_CASE("none and fixed") {
    SUBCASE("none never polls") {
        Driver d("none");
        CHECK(d.step(1000, {0}) == 0);
        CHECK_FALSE(d.policy->handler_ns(0).has_value());
    }
    SUBCASE("fixed polls for poll-max-ns") {
        Driver d("fixed");
        CHECK(d.policy->poll_ns() == 32768);
        CHECK(d.step(100000, {0}) == 32768);
        Driver e("fixed", params(1000, -1, -1, -1));
        CHECK(e.step(10, {0}) == 1000);
        CHECK(e.counters.updates == 0);
    }
}

// ---------------------------------------------------------------- table and parameters

TEST_CASE("policy table: names and QEMU defaults") {
    CHECK(policy_names() ==
          "legacy-global, legacy, weighted, none, fixed, ski-rental, ski-rental-random, kvm-halt-poll, haltpoll, oracle");
    CHECK(find_policy("nope") == nullptr);
    const PolicyParams w = resolve_policy_params(*find_policy("weighted"), {});
    CHECK(w.poll_max_ns == 32768);
    CHECK(w.poll_grow == 2);
    CHECK(w.poll_shrink == 2);
    CHECK(w.poll_weight == 3);
    const PolicyParams l = resolve_policy_params(*find_policy("legacy"), {});
    CHECK(l.poll_max_ns == 32768);
    CHECK(l.poll_grow == 0);
    CHECK(l.poll_shrink == 0);
    CHECK(l.poll_weight == 0);
    // Given values win over defaults.
    const PolicyParams g = resolve_policy_params(*find_policy("weighted"), params(1000, -1, 4, -1));
    CHECK(g.poll_max_ns == 1000);
    CHECK(g.poll_grow == 2);
    CHECK(g.poll_shrink == 4);
}

TEST_CASE("resolve_policy_params rejects out-of-range values") {
    const PolicyOps& ops = *find_policy("weighted");
    auto message = [&](PolicyParams p) -> std::string {
        try {
            resolve_policy_params(ops, p);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "(no error)";
    };
    CHECK(message(params(-1, -1, -1, 64)) == "poll-weight must be in [0, 63], got 64");
    CHECK(message(params(-1, -1, -1, -2)).find("poll-weight") != std::string::npos);
    CHECK(message(params(-1, -2, -1, -1)) == "poll-grow must be >= 0, got -2");
    CHECK(message(params(-5, -1, -1, -1)).find("poll-max-ns") != std::string::npos);
    CHECK(message(params(-1, -1, -3, -1)).find("poll-shrink") != std::string::npos);
    CHECK(message(params(0, 0, 0, 63)) == "(no error)");
}

TEST_CASE("parse_iothread_properties") {
    SUBCASE("round trip, any order, whitespace") {
        PolicyParams p;
        parse_iothread_properties(" poll-weight = 5 ,poll-max-ns=1000,", p);
        CHECK(p.poll_max_ns == 1000);
        CHECK(p.poll_weight == 5);
        CHECK(p.poll_grow == -1);  // not given: left for the defaults
        CHECK(p.poll_shrink == -1);
        parse_iothread_properties("poll-max-ns=32768,poll-grow=2,poll-shrink=2,poll-weight=3", p);
        CHECK(p.poll_max_ns == 32768);
        CHECK(p.poll_grow == 2);
        CHECK(p.poll_shrink == 2);
        CHECK(p.poll_weight == 3);
        parse_iothread_properties("", p);  // nothing to merge
        CHECK(p.poll_weight == 3);
    }
    auto message = [](const char* text) -> std::string {
        PolicyParams p;
        try {
            parse_iothread_properties(text, p);
        } catch (const std::invalid_argument& e) {
            return e.what();
        }
        return "(no error)";
    };
    SUBCASE("unknown property names the item and lists the valid ones") {
        const std::string m = message("poll-max-ns=1,poll-foo=3");
        CHECK(m.find("poll-foo") != std::string::npos);
        CHECK(m.find("poll-max-ns, poll-grow, poll-shrink, poll-weight") != std::string::npos);
    }
    SUBCASE("non-integer values") {
        CHECK(message("poll-grow=two").find("poll-grow=two") != std::string::npos);
        CHECK(message("poll-grow=2x").find("poll-grow=2x") != std::string::npos);
        CHECK(message("poll-grow=").find("poll-grow") != std::string::npos);
        CHECK(message("poll-grow").find("poll-grow") != std::string::npos);
    }
    SUBCASE("negative values are rejected here, -1 included") {
        // -1 is PolicyParams' "not given" marker, so it must not slip through.
        CHECK(message("poll-weight=-1") == "poll-weight must be in [0, 63], got -1");
        CHECK(message("poll-weight=64") == "poll-weight must be in [0, 63], got 64");
        CHECK(message("poll-grow=-1") == "poll-grow must be >= 0, got -1");
    }
}

// ---------------------------------------------------------------- policy-trace

namespace {

struct TraceRun {
    int rc;
    std::string out, err;
};

TraceRun trace(const std::string& input, const std::string& policy, const std::string& props = "") {
    std::istringstream in(input);
    std::ostringstream out, err;
    const int rc = run_policy_trace(in, out, err, policy, props, "in.jsonl");
    return {rc, out.str(), err.str()};
}

}  // namespace

TEST_CASE("policy-trace: weighted transcript") {
    const TraceRun r = trace(
        "{\"block_ns\": 8000, \"dispatched\": [\"vq0\"]}\n"
        "\n"
        "{\"block_ns\": 16000, \"dispatched\": [\"vq0\", \"cq\"]}\n"
        "{\"block_ns\": 20000, \"dispatched\": []}\n"
        "{\"block_ns\": 1000, \"dispatched\": [\"cq\"]}\n",
        "weighted");
    CHECK(r.rc == 0);
    CHECK(r.err == "");
    // step 0: vq0 joins, first sample 8000; ns = min(max(8000, 0), max) = 8000.
    // (blank line skipped)
    // step 1: cq joins, first sample 16000; vq0 = 8000 - 1000 + 2000 = 9000;
    //         best 16000 > 8000: min(max(16000, 16000), 32768) = 16000.
    // step 2: nothing dispatched: vq0 ages 9000 + 20000 = 29000; cq
    //         16000 + 20000 = 36000 > 32768 -> 0; best -1: ns stays 16000.
    // step 3: vq0 (not dispatched) ages to 30000; cq == 0 -> 1000;
    //         best 1000 < 16000 / 2: ns = 8000.
    CHECK(r.out ==
          "{\"step\":0,\"poll_ns\":8000,\"handlers\":{\"vq0\":8000}}\n"
          "{\"step\":1,\"poll_ns\":16000,\"handlers\":{\"vq0\":9000,\"cq\":16000}}\n"
          "{\"step\":2,\"poll_ns\":16000,\"handlers\":{\"vq0\":29000,\"cq\":0}}\n"
          "{\"step\":3,\"poll_ns\":8000,\"handlers\":{\"vq0\":30000,\"cq\":1000}}\n");
}

TEST_CASE("policy-trace: legacy-global transcript with --iothread") {
    const TraceRun r = trace(
        "{\"block_ns\": 100, \"dispatched\": [\"a\"]}\n"
        "{\"block_ns\": 5000, \"dispatched\": [\"a\"]}\n"
        "{\"block_ns\": 9000, \"dispatched\": []}\n"
        "{\"block_ns\": 20000, \"dispatched\": [\"b\"]}\n",
        "legacy-global", "poll-max-ns=10000, poll-shrink=2");
    CHECK(r.rc == 0);
    // 0 -> 4000; 5000 > 4000 -> 8000; 9000 > 8000, < 10000 -> 16000 capped
    // to 10000; 20000 > 10000 -> 10000 / 2 = 5000. No per-handler state.
    CHECK(r.out ==
          "{\"step\":0,\"poll_ns\":4000,\"handlers\":{}}\n"
          "{\"step\":1,\"poll_ns\":8000,\"handlers\":{}}\n"
          "{\"step\":2,\"poll_ns\":10000,\"handlers\":{}}\n"
          "{\"step\":3,\"poll_ns\":5000,\"handlers\":{}}\n");
}

TEST_CASE("policy-trace: legacy transcript stops at a malformed line") {
    const TraceRun r = trace(
        "{\"block_ns\": 1000, \"dispatched\": [\"x\"]}\n"
        "{\"block_ns\": 5000, \"dispatched\": [\"y\"]}\n"
        "{\"block_ns\": }\n"
        "{\"block_ns\": 1000, \"dispatched\": [\"x\"]}\n",
        "legacy");
    CHECK(r.rc == 2);
    // x: 0 -> 4000. Then y joins and grows 0 -> 4000; x keeps 4000.
    CHECK(r.out ==
          "{\"step\":0,\"poll_ns\":4000,\"handlers\":{\"x\":4000}}\n"
          "{\"step\":1,\"poll_ns\":4000,\"handlers\":{\"x\":4000,\"y\":4000}}\n");
    CHECK(r.err.rfind("pollsim policy-trace: in.jsonl:3: malformed JSON", 0) == 0);
}

TEST_CASE("policy-trace: input and option errors") {
    auto err_of = [](const std::string& input, const std::string& policy = "weighted",
                     const std::string& props = "") {
        const TraceRun r = trace(input, policy, props);
        CHECK(r.rc == 2);
        return r.err;
    };
    CHECK(err_of("{\"dispatched\": []}\n") == "pollsim policy-trace: in.jsonl:1: missing block_ns\n");
    CHECK(err_of("\n{\"block_ns\": -1, \"dispatched\": []}\n").find("in.jsonl:2: block_ns must be") !=
          std::string::npos);
    CHECK(err_of("{\"block_ns\": 1.5, \"dispatched\": []}\n").find("in.jsonl:1: block_ns") != std::string::npos);
    CHECK(err_of("{\"block_ns\": 1, \"dispatched\": [1]}\n").find("in.jsonl:1: dispatched must be an array of strings") !=
          std::string::npos);
    CHECK(err_of("{\"block_ns\": 1, \"dispatched\": \"vq0\"}\n").find("in.jsonl:1: dispatched must be") !=
          std::string::npos);
    CHECK(err_of("[1, 2]\n").find("in.jsonl:1: expected a JSON object") != std::string::npos);
    CHECK(err_of("", "nope").find("unknown policy 'nope'") != std::string::npos);
    CHECK(err_of("", "weighted", "poll-weight=64").find("poll-weight must be in [0, 63], got 64") !=
          std::string::npos);

    const TraceRun empty = trace("", "weighted");
    CHECK(empty.rc == 0);
    CHECK(empty.out == "");
}
