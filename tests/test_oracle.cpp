// Policy lab (issue 12 items 1, 2, 3 and 6): the offline optimum (oracle),
// metrics.cost, the new configuration keys and the on/off rate. Unit
// expectations are worked out by hand from the oracle's rule (policies/oracle.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "sim/cli/policy_trace.h"
#include "sim/config.h"
#include "sim/error.h"
#include "sim/metrics.h"
#include "sim/runner.h"
#include "sim/simulation.h"

using namespace pollsim;

namespace {

std::unique_ptr<Policy> make(const char* name, double latency_weight = -1) {
    const PolicyOps* ops = find_policy(name);
    REQUIRE(ops != nullptr);
    PolicyParams given;
    given.latency_weight = latency_weight;
    return ops->create(resolve_policy_params(*ops, given));
}

int64_t planned_poll(Policy& p, int64_t gap, int64_t sleep_cpu, int64_t latency) {
    p.foresee(WaitOutlook{gap, sleep_cpu, latency});
    return p.poll_ns();
}

// The policy-lab set-up (configs/sweeps/policy-lab-base.yaml), shortened.
Config lab_config(const std::vector<std::string>& sets) {
    std::vector<std::string> all = {"duration=200ms", "warmup=20ms", "replications=2", "threads=1"};
    all.insert(all.end(), sets.begin(), sets.end());
    return load_config(POLLSIM_SOURCE_DIR "/configs/sweeps/policy-lab-base.yaml", all);
}

// The three committed open-loop workloads of the policy lab.
const std::vector<std::vector<std::string>> kLabWorkloads = {
    {"workload.type=poisson", "workload.rate_iops=20000"},
    {"workload.type=onoff", "workload.rate_iops=60000"},
    {"workload.type=trace"},
};

std::vector<double> ratios(const Config& c) {
    const nlohmann::ordered_json report = run_config(c).report;
    return report["metrics"]["cost"]["ratio_to_oracle"]["values"].get<std::vector<double>>();
}

std::string load_error(const std::vector<std::string>& sets) {
    try {
        lab_config(sets);
    } catch (const InputError& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace

// ---------------------------------------------------------------- the rule

TEST_CASE("oracle: polls exactly the gap when that costs no more than sleeping, else sleeps at once") {
    // Sleep cost S = sleep CPU + weight x wakeup latency = 5000 + 1 x 10000 = 15000.
    auto o = make("oracle");
    CHECK(planned_poll(*o, 0, 5000, 10000) == 0);          // work visible now: no poll needed
    CHECK(planned_poll(*o, 1, 5000, 10000) == 1);
    CHECK(planned_poll(*o, 15000, 5000, 10000) == 15000);  // g = S: polling costs the same, poll
    CHECK(planned_poll(*o, 15001, 5000, 10000) == 0);      // g > S: sleep at once
    CHECK(planned_poll(*o, -1, 5000, 10000) == 0);         // nothing known ahead: sleep
    // Weight 0: S = 5000, CPU only. Weight 0.5: S = 5000 + 5000 = 10000.
    auto cpu_only = make("oracle", 0.0);
    CHECK(planned_poll(*cpu_only, 5000, 5000, 10000) == 5000);
    CHECK(planned_poll(*cpu_only, 5001, 5000, 10000) == 0);
    auto half = make("oracle", 0.5);
    CHECK(planned_poll(*half, 10000, 5000, 10000) == 10000);
    CHECK(planned_poll(*half, 10001, 5000, 10000) == 0);
    // update() learns nothing: the plan stands until the next foresee().
    PolicyCounters counters;
    const std::vector<int> list{0};
    const std::vector<uint8_t> dispatched{1};
    planned_poll(*o, 7000, 5000, 10000);
    o->update(123456, list, dispatched, counters);
    CHECK(o->poll_ns() == 7000);
    CHECK(counters.updates == 0);
}

TEST_CASE("oracle: latency weight is validated with its key's name") {
    PolicyParams bad;
    bad.latency_weight = -0.5;
    CHECK_THROWS_WITH_AS(resolve_policy_params(*find_policy("oracle"), bad),
                         doctest::Contains("oracle.latency_weight must be a finite number >= 0"), std::invalid_argument);
    bad.latency_weight = std::nan("");
    CHECK_THROWS_AS(resolve_policy_params(*find_policy("oracle"), bad), std::invalid_argument);
    CHECK(resolve_policy_params(*find_policy("weighted"), {}).latency_weight == 1.0);
}

TEST_CASE("policy-trace: oracle reads the wait ahead from each line") {
    std::istringstream in(
        "{\"block_ns\": 1000, \"dispatched\": [\"vq0\"], \"next_work_ns\": 3000, \"sleep_cpu_ns\": 5060, \"wakeup_latency_ns\": 12000}\n"
        "{\"block_ns\": 3000, \"dispatched\": [\"vq0\"], \"next_work_ns\": 17060, \"sleep_cpu_ns\": 5060, \"wakeup_latency_ns\": 12000}\n"
        "{\"block_ns\": 17060, \"dispatched\": [\"cq\"], \"next_work_ns\": 17061, \"sleep_cpu_ns\": 5060, \"wakeup_latency_ns\": 12000}\n"
        "{\"block_ns\": 50000, \"dispatched\": [\"cq\"]}\n");
    std::ostringstream out, err;
    CHECK(run_policy_trace(in, out, err, "oracle", "", "in.jsonl") == 0);
    // S = 5060 + 12000 = 17060: 3000 <= S polls 3000; 17060 = S polls; 17061
    // sleeps; no outlook (next_work_ns -1) sleeps.
    CHECK(out.str() ==
          "{\"step\":0,\"poll_ns\":3000,\"handlers\":{}}\n"
          "{\"step\":1,\"poll_ns\":17060,\"handlers\":{}}\n"
          "{\"step\":2,\"poll_ns\":0,\"handlers\":{}}\n"
          "{\"step\":3,\"poll_ns\":0,\"handlers\":{}}\n");
    std::istringstream bad("{\"block_ns\": 1, \"dispatched\": [], \"next_work_ns\": -2}\n");
    std::ostringstream out2, err2;
    CHECK(run_policy_trace(bad, out2, err2, "oracle", "", "in.jsonl") == 2);
    CHECK(err2.str().find("in.jsonl:1: next_work_ns must be a non-negative int64 integer or -1") != std::string::npos);
}

// ---------------------------------------------------------------- refusals

TEST_CASE("oracle: closed-loop workloads and several IOThreads are refused, naming the key") {
    const std::string fio = load_error({"policy=oracle", "workload.type=fio"});
    CHECK(fio.find("key 'workload.type'") != std::string::npos);
    CHECK(fio.find("closed loop") != std::string::npos);
    const std::string closed = load_error({"policy=oracle", "workload.type=trace", "workload.replay=closed"});
    CHECK(closed.find("key 'workload.replay'") != std::string::npos);
    const std::string threads = load_error({"policy=oracle", "iothreads=2"});
    CHECK(threads.find("key 'iothreads'") != std::string::npos);
    CHECK(load_error({"policy=oracle"}) == "(no error)");
    // A closed-loop run of another policy reports no cost (no oracle to compare).
    const Config fio_weighted = lab_config({"workload.type=fio", "replications=1"});
    CHECK_FALSE(run_config(fio_weighted).report["metrics"].contains("cost"));
}

// ---------------------------------------------------------------- in the engine

TEST_CASE("oracle: in the engine every poll it starts finds work (it knows the gap)") {
    for (const auto& w : kLabWorkloads) {
        std::vector<std::string> sets = w;
        sets.push_back("policy=oracle");
        const Config c = lab_config(sets);
        CAPTURE(w.front());
        for (int rep = 0; rep < c.replications; ++rep) {
            const ContextStats s = run_replication(c, rep).contexts[0];
            CHECK(s.poll_phases > 1000);
            // All but a poll still running when the window closes.
            CHECK(s.poll_phases - s.poll_successes <= 1);
        }
        CHECK(run_config(c).report["metrics"]["cost"]["ratio_to_oracle"]["mean"].get<double>() == 1.0);
    }
}

TEST_CASE("oracle: never beaten in cost.total by any registered policy, workloads x seeds x weights") {
    // Weights 1 (the default) and 4. Not below: at weight 0.5 `none` beats
    // the oracle on the on/off workload by 3 to 7 % (seeds 1, 7), since a
    // sleep's wakeup gathers the next arrivals into one dispatch and the
    // oracle decides each wait alone (README "Policy lab", what it is not).
    for (const char* weight : {"1", "4"}) {
        for (const auto& w : kLabWorkloads) {
            for (const char* seed : {"1", "7"}) {
                for (const auto& ops : policy_table()) {
                    if (ops.clairvoyant) continue;
                    std::vector<std::string> sets = w;
                    sets.push_back(std::string("seed=") + seed);
                    sets.push_back(std::string("oracle.latency_weight=") + weight);
                    Config c = lab_config(sets);
                    // Each policy at its own defaults (not the base file's QEMU values).
                    c.policy = ops.name;
                    PolicyParams given;
                    given.latency_weight = c.iothread.latency_weight;
                    c.iothread = resolve_policy_params(ops, given);
                    for (double r : ratios(c)) {
                        const std::string where = std::string(ops.name) + " " + w.front() + " seed " + seed +
                                                  " weight " + weight;
                        CAPTURE(where);
                        CHECK(r >= 1.0);
                    }
                }
            }
        }
    }
}

// ---------------------------------------------------------------- ski-rental against the oracle

namespace {

// Open loop on device 0: arrivals separated by the given gaps, cyclically.
class GapWorkload final : public Workload {
public:
    explicit GapWorkload(std::vector<int64_t> gaps) : gaps_(std::move(gaps)) {}
    void start(GuestApi& g) override { plan(g, g.now_ns()); }
    void on_timer(GuestApi& g, uint64_t) override {
        g.submit(IoRequest{});
        plan(g, g.now_ns());
    }
    void on_complete(GuestApi&, const IoRequest&) override {}
    bool open_loop() const override { return true; }
    std::optional<PlannedSubmission> next_submission() const override { return next_; }

private:
    void plan(GuestApi& g, int64_t from_ns) {
        next_ = PlannedSubmission{from_ns + gaps_[i_++ % gaps_.size()], 0, 0};
        g.timer_at(next_.t_ns, 0);
    }
    std::vector<int64_t> gaps_;
    size_t i_ = 0;
    PlannedSubmission next_;
};

double gap_cost(Config c, const char* policy, const std::vector<int64_t>& gaps, int64_t b) {
    c.policy = policy;
    PolicyParams given;
    given.poll_max_ns = b;
    c.iothread = resolve_policy_params(*find_policy(policy), given);
    Simulation sim(c, 0, std::make_unique<GapWorkload>(gaps));
    const ReplicationResult r = sim.run();
    return wait_cost_ns_per_s(r, {0}, c.iothread.latency_weight);
}

}  // namespace

TEST_CASE("ski-rental with B = the oracle's sleep cost stays within 2x of the oracle") {
    SUBCASE("policy-lab workloads") {
        // 16 disks: poll list of 16 vqs + cq. S = 17 x 30 + 2000 + 3000 + 1 x 12000 = 17510.
        for (const auto& w : kLabWorkloads) {
            std::vector<std::string> sets = w;
            sets.push_back("policy=ski-rental");
            sets.push_back("iothread.poll-max-ns=17510");
            for (double r : ratios(lab_config(sets))) {
                CAPTURE(w.front());
                CHECK(r <= 2.0);
            }
        }
    }
    SUBCASE("adversarial gaps around B") {
        // One disk: poll list vq + cq, S = 2 x 30 + 2000 + 3000 + 12000 = 17060.
        // Each arrival is followed by its dispatch (vq 1500 + 1500 + submit
        // 3000) and, ~180 us later, a completion; the arrival gaps below put
        // the next arrival just past B after the dispatch, at B, far beyond,
        // and mixed, the deterministic rule's worst cases.
        Config c = lab_config({"devices=1", "duration=100ms", "warmup=10ms"});
        const int64_t b = 17060, dispatch = 6000;
        const std::vector<std::vector<int64_t>> adversarial = {
            {b + dispatch + 1},
            {b + dispatch + 600},  // past B by about a spin
            {b + dispatch},
            {b / 2},
            {10 * b},
            {b + dispatch + 1, 1000, 3 * b, b / 3, b + dispatch + 100, 400000},
        };
        for (const auto& gaps : adversarial) {
            const double ski = gap_cost(c, "ski-rental", gaps, b);
            const double best = gap_cost(c, "oracle", gaps, b);
            CAPTURE(gaps.front());
            CHECK(best > 0);
            CHECK(ski <= 2.0 * best);
            CHECK(ski >= best);
        }
    }
}

// ---------------------------------------------------------------- cost metric

TEST_CASE("cost.total: wait CPU plus weight x wakeup latency, per second of window") {
    // By hand from the counters of one run: (poll + final check + syscall +
    // wakeup CPU + w x wakeup latency) / window seconds.
    for (double w : {0.0, 1.0, 2.5}) {
        Config c = lab_config({"policy=legacy", "replications=1"});
        c.iothread.latency_weight = w;
        const ReplicationResult r = run_replication(c, 0);
        const ContextStats& s = r.contexts[0];
        CHECK(s.wakeup_latency_ns > 0);
        const double expected =
            (static_cast<double>(s.poll_ns + s.final_check_ns + s.syscall_ns + s.wakeup_ns) +
             w * static_cast<double>(s.wakeup_latency_ns)) /
            0.2;
        CHECK(wait_cost_ns_per_s(r, {0}, w) == doctest::Approx(expected).epsilon(1e-12));
    }
}

TEST_CASE("cost metrics leave every other metric as it was") {
    // An open-loop run gains metrics.cost; everything else is what the same
    // run reports with the cost block removed (the oracle twin runs apart).
    const Config c = lab_config({"policy=weighted"});
    auto report = run_config(c).report;
    REQUIRE(report["metrics"].contains("cost"));
    CHECK(report["metrics"]["cost"]["total"].contains("ci95"));
    CHECK(report["metrics"]["cost"]["ratio_to_oracle"]["values"].size() == 2);
    // The same replications run alone give the same metrics.
    const nlohmann::ordered_json alone = replication_metrics(run_replication(c, 0), {0});
    for (const auto& [key, value] : alone.items()) {
        if (key == "poll") continue;  // histogram aggregated differently
        if (value.is_number()) CHECK(report["metrics"][key]["values"][0].get<double>() == value.get<double>());
    }
    CHECK(report["metrics"]["iops"]["values"][0].get<double>() == alone["iops"].get<double>());
    CHECK(report["metrics"]["cpu"]["iothread_util"]["values"][0].get<double>() ==
          alone["cpu"]["iothread_util"].get<double>());
}

// ---------------------------------------------------------------- keys

TEST_CASE("poll-grow-start, poll-allow-shrink and oracle.latency_weight: YAML, --set, errors, JSON echo") {
    const std::string base = "profile: " POLLSIM_SOURCE_DIR "/configs/profiles/s390x-fcp.yaml\n";
    const Config y = load_config_text(base + "policy: haltpoll\niothread:\n  poll-grow-start: 30000\n  poll-allow-shrink: 0\n"
                                             "workload: {type: poisson}\noracle:\n  latency_weight: 2.5\n",
                                      "y.yaml", ".");
    CHECK(y.iothread.poll_grow_start == 30000);
    CHECK(y.iothread.poll_allow_shrink == 0);
    CHECK(y.iothread.latency_weight == 2.5);
    const Config s = load_config_text(base, "s.yaml", ".",
                                      {"policy=kvm-halt-poll", "iothread.poll-grow-start=20000",
                                       "workload.type=onoff", "oracle.latency_weight=0"});
    CHECK(s.iothread.poll_grow_start == 20000);
    CHECK(s.iothread.latency_weight == 0.0);
    const auto j = config_to_json(s);
    CHECK(j["iothread"]["poll-grow-start"] == 20000);
    CHECK(j["oracle"]["latency_weight"] == 0.0);
    CHECK(config_to_json(y)["iothread"]["poll-allow-shrink"].is_null());  // 0: left out like QEMU's policies
    // QEMU's policies on a closed loop: no new keys, fingerprints unchanged.
    const auto q = config_to_json(load_config_text(base, "q.yaml", "."));
    CHECK_FALSE(q["iothread"].contains("poll-grow-start"));
    CHECK_FALSE(q.contains("oracle"));
    auto error = [&](const std::string& text, const std::vector<std::string>& sets = {}) -> std::string {
        try {
            load_config_text(base + text, "e.yaml", ".", sets);
        } catch (const InputError& e) {
            return e.what();
        }
        return "(no error)";
    };
    CHECK(error("iothread:\n  poll-allow-shrink: 2\n").find("e.yaml:3:22: key 'iothread.poll-allow-shrink'") !=
          std::string::npos);
    CHECK(error("", {"iothread.poll-grow-start=-1"}).find("--set: key 'iothread.poll-grow-start'") != std::string::npos);
    CHECK(error("oracle:\n  latency_weight: -1\n").find("key 'oracle.latency_weight'") != std::string::npos);
    CHECK(error("oracle:\n  weight: 1\n").find("oracle.weight") != std::string::npos);
}

// ---------------------------------------------------------------- on/off rate (item 6)

TEST_CASE("onoff delivers rate_iops x on / (on + off): 60000 IOPS, 2 ms on, 8 ms off is 12000") {
    // The README's 3.9 kIOPS came from the policy-lab sweep running onoff at
    // the base file's 20000 IOPS (20000 x 2 / 10 = 4000), not the 60000 its
    // comment meant; the source was right. 20 s holds ~2000 on/off cycles:
    // the on share's relative sd is about 2.5 %, so 6 % is over 2 sd.
    const Config c = lab_config({"workload.type=onoff", "workload.rate_iops=60000", "duration=20s",
                                 "replications=1", "policy=none"});
    const double iops = run_config(c).report["metrics"]["iops"]["mean"].get<double>();
    CHECK(iops == doctest::Approx(12000).epsilon(0.06));
    // The committed sweep runs onoff at 60000 (zipped with workload.type).
    std::ifstream file(POLLSIM_SOURCE_DIR "/configs/sweeps/policy-lab.yaml");
    const std::string sweep((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    CHECK(sweep.find("workload.rate_iops: [20000, 60000, 20000]") != std::string::npos);
}
