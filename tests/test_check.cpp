// `pollsim check`: tolerance derivation, comparison on hand-made JSON, suite
// parsing and bad input, and the whole command on the tiny suite in
// tests/data/check/ (a few ms of virtual time per scenario).
#include <doctest/doctest.h>

#include "tests/test_util.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <unistd.h>

#include "sim/check.h"
#include "sim/error.h"

using namespace pollsim;
using ojson = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

const std::string kTinySuite = POLLSIM_TEST_DATA "/check/suite.yaml";

struct TempDir : test::ScratchDir {
    explicit TempDir(const std::string& name) : ScratchDir("check-" + name) {}
};  // baselines and edited suites

std::string error_of(const std::function<void()>& f) { return test::input_error_of(f); }

struct Outcome {
    int code;
    std::string out, err;
};

Outcome check(CheckOptions o) {
    std::ostringstream out, err;
    const int code = run_check(o, out, err);
    return {code, out.str(), err.str()};
}

CheckOptions options(const std::string& baseline, const std::string& suite = kTinySuite) {
    CheckOptions o;
    o.baseline_path = baseline;
    o.suite_path = suite;
    o.threads = 2;
    return o;
}

ojson read_json(const std::string& path) {
    std::ifstream in(path);
    return ojson::parse(in);
}

void write_json(const std::string& path, const ojson& j) { std::ofstream(path) << j.dump(2); }

ojson leaf(double mean, double ci95) { return {{"mean", mean}, {"ci95", ci95}, {"values", ojson::array()}}; }
ojson base_leaf(double mean, double tol) { return {{"mean", mean}, {"ci95", 0.0}, {"tol", tol}}; }

}  // namespace

TEST_CASE("tolerance: k * sqrt(2) * ci95, or the floor of the metric's kind") {
    ToleranceRule r;  // k 3, rel 1e-4, quantile 1/128, fraction 1e-4, abs 1
    SUBCASE("the interval dominates when it is wide") {
        CHECK(derive_tolerance("iops", 50000, 200, r) == doctest::Approx(3 * std::sqrt(2.0) * 200));
        CHECK(derive_tolerance("cpu.poll", 0.2, 0.01, r) == doctest::Approx(3 * std::sqrt(2.0) * 0.01));
    }
    SUBCASE("a zero interval falls back to the floors") {
        CHECK(derive_tolerance("iops", 50000, 0, r) == doctest::Approx(5.0));            // rel_floor * mean
        CHECK(derive_tolerance("poll.grows", 0, 0, r) == doctest::Approx(1.0));          // abs_floor
        CHECK(derive_tolerance("cpu.final_check", 0.0006, 0, r) == doctest::Approx(1e-4));  // fraction floor
        CHECK(derive_tolerance("poll.reset_rate", 0, 0, r) == doctest::Approx(1e-4));
        CHECK(derive_tolerance("latency_ns.p99", 128000, 0, r) == doctest::Approx(1000.0));  // one sub-bucket
        CHECK(derive_tolerance("latency_ns.mean", 128000, 0, r) == doctest::Approx(12.8));   // not a quantile
    }
    SUBCASE("per-IOThread metrics take the kind of the overall metric") {
        CHECK(derive_tolerance("iothread[1].latency_ns.p50", 128000, 0, r) == doctest::Approx(1000.0));
        CHECK(derive_tolerance("iothread[0].cpu.poll", 0, 0, r) == doctest::Approx(1e-4));
    }
    SUBCASE("the rule's parameters are used") {
        r.k = 1;
        r.abs_floor = 0;
        CHECK(derive_tolerance("iops", 0, 2, r) == doctest::Approx(std::sqrt(2.0) * 2));
        CHECK(derive_tolerance("iops", 0, 0, r) == 0);
    }
}

TEST_CASE("flatten_metrics: every mean/ci95 leaf, no histogram, IOThreads only when several") {
    ojson report;
    report["metrics"] = {{"iops", leaf(100, 1)},
                         {"latency_ns", {{"p99", leaf(5000, 10)}}},
                         {"poll", {{"mean_poll_ns", leaf(300, 3)}, {"histogram", ojson::array({{{"lo_ns", 0}}})}}}};
    report["per_iothread"] = ojson::array({{{"iothread", 0}, {"metrics", {{"iops", leaf(100, 1)}}}}});
    ojson flat = flatten_metrics(report);
    CHECK(flat.size() == 3);
    CHECK(flat.contains("latency_ns.p99"));
    CHECK(flat.contains("poll.mean_poll_ns"));
    CHECK_FALSE(flat.contains("poll.histogram"));
    CHECK(flat["iops"]["mean"] == 100.0);

    report["per_iothread"].push_back({{"iothread", 1}, {"metrics", {{"iops", leaf(0, 0)}}}});
    flat = flatten_metrics(report);
    CHECK(flat.size() == 5);
    CHECK(flat["iothread[1].iops"]["mean"] == 0.0);
}

TEST_CASE("compare_metrics on hand-made JSON") {
    const ojson baseline = {{"iops", base_leaf(1000, 10)}, {"cpu.poll", base_leaf(0.5, 0.01)}};
    SUBCASE("pass: within tolerance, boundary included") {
        const ojson current = {{"iops", leaf(1010, 5)}, {"cpu.poll", leaf(0.5, 0)}};
        const auto rows = compare_metrics("s", baseline, current);
        REQUIRE(rows.size() == 2);
        CHECK(rows[0].verdict == Verdict::ok);
        CHECK(rows[0].tolerance_used() == doctest::Approx(1.0));
        CHECK(rows[1].verdict == Verdict::ok);
        CHECK(rows[1].tolerance_used() == 0);
    }
    SUBCASE("fail: outside tolerance") {
        const ojson current = {{"iops", leaf(1000, 5)}, {"cpu.poll", leaf(0.48, 0)}};
        const auto rows = compare_metrics("s", baseline, current);
        CHECK(rows[0].verdict == Verdict::ok);
        CHECK(rows[1].verdict == Verdict::fail);
        CHECK(rows[1].failed());
        CHECK(rows[1].tolerance_used() == doctest::Approx(2.0));
    }
    SUBCASE("missing metric fails, a new one is listed but passes") {
        const ojson current = {{"iops", leaf(1000, 5)}, {"poll.spins", leaf(7, 0)}};
        const auto rows = compare_metrics("s", baseline, current);
        REQUIRE(rows.size() == 3);
        CHECK(rows[1].metric == "cpu.poll");
        CHECK(rows[1].verdict == Verdict::missing);
        CHECK(rows[1].failed());
        CHECK(rows[2].metric == "poll.spins");
        CHECK(rows[2].verdict == Verdict::added);
        CHECK_FALSE(rows[2].failed());
    }
    SUBCASE("a null (NaN) mean fails") {
        ojson current = {{"iops", leaf(1000, 5)}, {"cpu.poll", leaf(0.5, 0)}};
        current["cpu.poll"]["mean"] = nullptr;
        CHECK(compare_metrics("s", baseline, current)[1].verdict == Verdict::fail);
    }
    SUBCASE("the table shows failures only unless verbose") {
        const ojson current = {{"iops", leaf(1000, 5)}, {"cpu.poll", leaf(0.48, 0)}};
        const auto rows = compare_metrics("fcp/x", baseline, current);
        std::ostringstream terse, verbose;
        print_deltas(terse, rows, false);
        print_deltas(verbose, rows, true);
        CHECK(terse.str().find("cpu.poll") != std::string::npos);
        CHECK(terse.str().find("-4%") != std::string::npos);
        CHECK(terse.str().find("FAIL") != std::string::npos);
        CHECK(terse.str().find("iops") == std::string::npos);
        CHECK(verbose.str().find("iops") != std::string::npos);
        std::ostringstream none;
        print_deltas(none, compare_metrics("s", baseline, {{"iops", leaf(1000, 0)}, {"cpu.poll", leaf(0.5, 0)}}), false);
        CHECK(none.str().empty());
    }
}

TEST_CASE("validate_baseline refuses what make_baseline would not write") {
    const ojson good = {{"format", "pollsim-check-baseline/1"},
                        {"pollsim_version", "0.1.0"},
                        {"tolerance_rule", ToleranceRule{}.to_json()},
                        {"scenarios", ojson::array({{{"name", "a"},
                                                     {"config_hash", "0123"},
                                                     {"metrics", {{"iops", base_leaf(1, 0.1)}}}}})}};
    CHECK(error_of([&] { validate_baseline(good, "b.json"); }).empty());
    auto broken = [&](const std::function<void(ojson&)>& edit) {
        ojson j = good;
        edit(j);
        return error_of([&] { validate_baseline(j, "b.json"); });
    };
    CHECK(broken([](ojson& j) { j = ojson::array(); }).find("b.json") != std::string::npos);
    CHECK(broken([](ojson& j) { j["format"] = "other/2"; }).find("format") != std::string::npos);
    CHECK(broken([](ojson& j) { j.erase("scenarios"); }).find("scenarios") != std::string::npos);
    CHECK(broken([](ojson& j) { j["scenarios"][0].erase("config_hash"); }).find("config_hash") != std::string::npos);
    CHECK(broken([](ojson& j) { j["scenarios"].push_back(j["scenarios"][0]); }).find("twice") != std::string::npos);
    CHECK(broken([](ojson& j) { j["scenarios"][0]["metrics"]["iops"]["tol"] = -1; }).find("iops") != std::string::npos);
    CHECK(broken([](ojson& j) { j["scenarios"][0]["metrics"]["iops"].erase("mean"); }).find("iops") != std::string::npos);
}

TEST_CASE("load_suite: names, order, --set applied last, hash of the suite as written") {
    const Suite plain = load_suite(kTinySuite);
    REQUIRE(plain.scenarios.size() == 4);
    CHECK(plain.scenarios[0].name == "legacy/1t");
    CHECK(plain.scenarios[1].name == "legacy/2t");
    CHECK(plain.scenarios[3].name == "weighted/2t");
    CHECK(plain.scenarios[3].config.policy == "weighted");
    CHECK(plain.scenarios[3].config.iothreads == 2);
    CHECK(plain.scenarios[3].config.iothread.poll_weight == 3);
    CHECK(plain.scenarios[3].config.threads == 1);
    CHECK(plain.scenarios[0].config_hash != plain.scenarios[1].config_hash);

    // The perturbation must reach scenarios whose level sets the same key.
    const Suite perturbed = load_suite(kTinySuite, {"iothread.poll-weight=1"});
    CHECK(perturbed.scenarios[3].config.iothread.poll_weight == 1);
    CHECK(perturbed.scenarios[3].config_hash == plain.scenarios[3].config_hash);
    CHECK(config_hash(perturbed.scenarios[3].config) != plain.scenarios[3].config_hash);
}

TEST_CASE("load_suite: bad suites are refused before anything runs, with file and line") {
    TempDir t("suite");
    const std::string base = POLLSIM_TEST_DATA "/check/base.yaml";
    auto error_for = [&](const std::string& text) {
        const std::string path = t.write("suite.yaml", text);
        return error_of([&] { load_suite(path); });
    };
    CHECK(error_for("base: " + base + "\naxes: {p: {a: {}}}\nbogus: 1\n").find("suite.yaml:3:1: key 'bogus'") !=
          std::string::npos);
    CHECK(error_for("base: " + base + "\naxes:\n  p:\n    a: {workload.nope: 1}\n").find("suite.yaml:4:9: key 'axes.p.a.workload.nope'") !=
          std::string::npos);
    CHECK(error_for("base: " + base + "\naxes:\n  p: {}\n").find("non-empty map of levels") != std::string::npos);
    CHECK(error_for("base: " + base + "\n").find("'axes' is required") != std::string::npos);
    CHECK(error_for("base: missing.yaml\naxes: {p: {a: {}}}\n").find("cannot read") != std::string::npos);
    CHECK(error_for("axes: {p: {a: {}}}\n").find("'base' is required") != std::string::npos);
    CHECK(error_for("base: " + base + "\naxes: {p: {a: {}}}\ntolerance: {k: -1}\n").find("tolerance.k") != std::string::npos);
    CHECK(error_for("base: " + base + "\naxes: {p: {a: {}}}\ntolerance: {kk: 1}\n").find("unknown key") != std::string::npos);
    // A bad value surfaces with the scenario that carries it.
    CHECK(error_for("base: " + base + "\naxes: {p: {a: {workload.rw: sideways}}}\n").find("scenario 'a'") != std::string::npos);
    CHECK(error_of([] { load_suite("/nonexistent/suite.yaml"); }).find("check suite: cannot open") != std::string::npos);
}

TEST_CASE("run_check: a re-run passes exactly, a perturbed policy fails, bad input exits 2") {
    TempDir t("run");
    const std::string baseline = t.path("baseline.json");

    CheckOptions update = options(baseline);
    update.update = true;
    const Outcome written = check(update);
    REQUIRE(written.code == 0);
    CHECK(written.out.find("4 scenarios") != std::string::npos);
    const ojson b = read_json(baseline);
    CHECK(b["scenarios"].size() == 4);
    CHECK(b["scenarios"][1]["metrics"].contains("iothread[1].cpu.iothread_util"));

    SUBCASE("re-run: every metric identical") {
        const Outcome o = check(options(baseline));
        CHECK(o.code == 0);
        CHECK(o.out.find("check: OK") != std::string::npos);
        const auto n = b["scenarios"][0]["metrics"].size() * 2 + b["scenarios"][1]["metrics"].size() * 2;
        CHECK(o.out.find(std::to_string(n) + " identical") != std::string::npos);
    }
    SUBCASE("the thread count does not change the results") {
        CheckOptions one = update;
        one.threads = 1;
        one.baseline_path = t.path("one-thread.json");
        REQUIRE(check(one).code == 0);
        CHECK(read_json(one.baseline_path) == b);
    }
    SUBCASE("a perturbed policy parameter fails") {
        CheckOptions o = options(baseline);
        o.sets = {"iothread.poll-weight=1"};
        const Outcome r = check(o);
        CHECK(r.code == 1);
        CHECK(r.out.find("check: FAIL") != std::string::npos);
        CHECK(r.out.find("weighted/1t") != std::string::npos);
        CHECK(r.out.find("legacy/1t ") == std::string::npos);  // legacy ignores the weight
    }
    SUBCASE("missing baseline") {
        const Outcome r = check(options(t.path("none.json")));
        CHECK(r.code == 2);
        CHECK(r.err.find("--update") != std::string::npos);
    }
    SUBCASE("malformed baseline") {
        t.write("bad.json", "{\"format\": ");
        CHECK(check(options(t.path("bad.json"))).code == 2);
        t.write("bad.json", "{\"format\": \"pollsim-check-baseline/1\"}");
        CHECK(check(options(t.path("bad.json"))).code == 2);
    }
    SUBCASE("unknown --set key") {
        CheckOptions o = options(baseline);
        o.sets = {"iothread.poll-wieght=1"};
        const Outcome r = check(o);
        CHECK(r.code == 2);
        CHECK(r.err.find("unknown key 'iothread.poll-wieght'") != std::string::npos);
    }
    SUBCASE("--update refuses --set") {
        CheckOptions o = update;
        o.sets = {"iothread.poll-weight=1"};
        CHECK(check(o).code == 2);
    }
    SUBCASE("scenario list mismatch") {
        ojson j = b;
        j["scenarios"].erase(2);
        write_json(t.path("short.json"), j);
        const Outcome r = check(options(t.path("short.json")));
        CHECK(r.code == 2);
        CHECK(r.err.find("not in the baseline: weighted/1t") != std::string::npos);
        CHECK(r.err.find("--update") != std::string::npos);
    }
    SUBCASE("a changed scenario config is detected by its hash") {
        const std::string suite = t.write("suite.yaml", "base: " POLLSIM_TEST_DATA "/check/base.yaml\n"
                                                        "set: {duration: 10ms}\n"
                                                        "axes:\n"
                                                        "  policy:\n"
                                                        "    legacy: {policy: legacy}\n"
                                                        "    weighted: {policy: weighted, iothread.poll-grow: 2, "
                                                        "iothread.poll-shrink: 2, iothread.poll-weight: 3}\n"
                                                        "  iothreads: {1t: {iothreads: 1}, 2t: {iothreads: 2}}\n");
        const Outcome r = check(options(baseline, suite));
        CHECK(r.code == 2);
        CHECK(r.err.find("configurations changed") != std::string::npos);
    }
    SUBCASE("a metric missing from the run fails") {
        ojson j = b;
        j["scenarios"][0]["metrics"]["poll.gone"] = base_leaf(1, 0);
        write_json(t.path("extra.json"), j);
        const Outcome r = check(options(t.path("extra.json")));
        CHECK(r.code == 1);
        CHECK(r.out.find("MISSING") != std::string::npos);
    }
    SUBCASE("a baseline value outside the tolerance fails") {
        ojson j = b;
        auto& iops = j["scenarios"][3]["metrics"]["iops"];
        iops["mean"] = iops["mean"].get<double>() + 2 * iops["tol"].get<double>();
        write_json(t.path("moved.json"), j);
        const Outcome r = check(options(t.path("moved.json")));
        CHECK(r.code == 1);
        CHECK(r.out.find("weighted/2t") != std::string::npos);
        CHECK(r.out.find("FAIL: 1 of") != std::string::npos);
    }
}
