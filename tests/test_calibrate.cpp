// Calibration: the optimiser on problems with known answers, parameter
// declarations, cost overrides and the written profile.
#include <doctest/doctest.h>

#include "tests/test_util.h"

#include <cmath>
#include <yaml-cpp/yaml.h>

#include "sim/calibrate.h"
#include "sim/config.h"
#include "sim/error.h"
#include "sim/profile.h"

using namespace pollsim;

namespace {

FitParameter param(std::string name, bool scale, double lower, double upper, std::vector<std::string> keys = {"syscall_ns"}) {
    FitParameter p;
    p.name = std::move(name);
    p.keys = std::move(keys);
    p.scale = scale;
    p.lower = lower;
    p.upper = upper;
    p.profiles = {"p.yaml"};
    return p;
}

std::string error_of(const std::function<void()>& f) { return test::input_error_of(f); }

const char* kProfile = R"(name: test
syscall_ns: 2us
wakeup_latency_ns: {dist: lognormal, mean_ns: 12000, cv: 0.5}
wakeup_cpu_ns: {dist: uniform, lo_ns: 1000, hi_ns: 3000}
service:
  randread: {dist: lognormal, mean_ns: 100000, cv: 0.4}
  read: 50us
calibration:
  - name: wakeup_latency
    keys: [wakeup_latency_ns]
    mode: mean
    lower: 3us
    upper: 40000
    reason: test
  - name: service_scale
    keys: [service.randread, service.read]
    mode: scale
    lower: 0.5
    upper: 2
    reason: test
)";

double rosenbrock(const Eigen::VectorXd& x) {
    return 100 * std::pow(x[1] - x[0] * x[0], 2) + std::pow(1 - x[0], 2);
}

}  // namespace

TEST_CASE("Nelder-Mead finds the minimum of the Rosenbrock function inside a box") {
    NelderMeadOptions opt;
    opt.max_evaluations = 2000;
    opt.initial_step = 0.1;
    opt.x_tolerance = 1e-7;
    opt.f_tolerance = 1e-12;
    const auto r = nelder_mead(rosenbrock, Eigen::Vector2d(-1.2, 1.0), Eigen::Vector2d(-2, -2), Eigen::Vector2d(2, 2), opt);
    CHECK(r.x[0] == doctest::Approx(1).epsilon(1e-3));
    CHECK(r.x[1] == doctest::Approx(1).epsilon(1e-3));
    CHECK(r.converged);
    // The best value never gets worse from one iteration to the next.
    for (size_t i = 1; i < r.best_f.size(); ++i) CHECK(r.best_f[i] <= r.best_f[i - 1]);
}

TEST_CASE("restarted Nelder-Mead continues where a collapsed simplex stopped") {
    // A coarse "flat" test (f values within 5 %) stops a single run in
    // Rosenbrock's curved valley, well short of (1, 1).
    NelderMeadOptions opt;
    opt.max_evaluations = 3000;
    opt.initial_step = 0.1;
    opt.f_tolerance = 0.05;
    const Eigen::Vector2d x0(-1.2, 1.0), lo(-2, -2), hi(2, 2);
    const auto single = nelder_mead(rosenbrock, x0, lo, hi, opt);
    REQUIRE(single.converged);
    REQUIRE(single.evaluations < opt.max_evaluations);
    const auto restarted = nelder_mead_restarted(rosenbrock, x0, lo, hi, opt);
    CHECK(restarted.restarts >= 1);
    CHECK(restarted.f < single.f);
    CHECK(std::abs(restarted.x[0] - 1) < std::abs(single.x[0] - 1));
    // The first run is the single run: restarting changes nothing before it.
    CHECK(restarted.best_f.size() > single.best_f.size());
    for (size_t i = 0; i < single.best_f.size(); ++i) CHECK(restarted.best_f[i] == single.best_f[i]);
    for (size_t i = 1; i < restarted.best_f.size(); ++i) CHECK(restarted.best_f[i] <= restarted.best_f[i - 1]);
    // The budget holds (a shrink may overrun it by one simplex, n evaluations).
    CHECK(restarted.evaluations <= opt.max_evaluations + 2);
}

TEST_CASE("Nelder-Mead does not evaluate its start again when its value is given") {
    int calls = 0;
    auto counted = [&](const Eigen::VectorXd& x) {
        ++calls;
        return rosenbrock(x);
    };
    NelderMeadOptions opt;
    opt.max_evaluations = 2;  // stop right after the initial simplex
    const Eigen::Vector2d x0(-1.2, 1.0), lo(-2, -2), hi(2, 2);
    nelder_mead(counted, x0, lo, hi, opt);
    CHECK(calls == 3);  // x0 and one vertex per axis
    calls = 0;
    const auto r = nelder_mead(counted, x0, lo, hi, opt, rosenbrock(x0));
    CHECK(calls == 2);
    CHECK(r.evaluations == 2);
}

TEST_CASE("restarted Nelder-Mead stops when a fresh simplex finds nothing better") {
    auto bowl = [](const Eigen::VectorXd& x) { return (x.array() - 0.3).square().sum(); };
    NelderMeadOptions opt;
    opt.max_evaluations = 100000;
    const auto r = nelder_mead_restarted(bowl, Eigen::Vector2d(0.9, 0.9), Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 1), opt);
    CHECK(r.converged);
    CHECK(r.restarts >= 1);
    CHECK(r.restarts < 10);
    CHECK(r.evaluations < 2000);
    CHECK(r.x[0] == doctest::Approx(0.3).epsilon(1e-2));
}

TEST_CASE("Nelder-Mead respects the box when the minimum lies outside it") {
    auto f = [](const Eigen::VectorXd& x) { return (x.array() - 5.0).square().sum(); };
    const auto r = nelder_mead(f, Eigen::Vector2d(0.1, 0.2), Eigen::Vector2d(0, 0), Eigen::Vector2d(1, 1));
    CHECK(r.x[0] == doctest::Approx(1).epsilon(1e-3));
    CHECK(r.x[1] == doctest::Approx(1).epsilon(1e-3));
}

TEST_CASE("fit_parameters recovers known parameters through the calibration's code path") {
    // A decay curve y(t) = a * exp(-t / tau) sampled at fixed t, with a as a
    // scale factor and tau as a mean in ns, bounds spanning factors (log-scaled).
    const std::vector<FitParameter> params = {param("a", true, 0.1, 10), param("tau", false, 100, 100000)};
    const double a_true = 2.5, tau_true = 7000;
    auto curve = [](double a, double tau) {
        Eigen::VectorXd y(20);
        for (int i = 0; i < 20; ++i) y[i] = a * std::exp(-1000.0 * i / tau);
        return y;
    };
    const Eigen::VectorXd target = curve(a_true, tau_true);
    int calls = 0;
    auto objective = [&](const Eigen::VectorXd& v) {
        ++calls;
        CHECK(v[0] >= 0.1);  // the objective only ever sees values within bounds
        CHECK(v[1] <= 100000);
        return (curve(v[0], v[1]) - target).squaredNorm();
    };
    FitOptions opt;
    opt.design_points = 10;
    opt.nelder_mead.max_evaluations = 600;
    opt.nelder_mead.x_tolerance = 1e-8;
    opt.nelder_mead.f_tolerance = 1e-14;
    const FitResult fit = fit_parameters(params, Eigen::Vector2d(1.0, 1000), objective, opt);
    CHECK(fit.values[0] == doctest::Approx(a_true).epsilon(1e-3));
    CHECK(fit.values[1] == doctest::Approx(tau_true).epsilon(1e-3));
    CHECK(fit.evaluations == calls);
    CHECK(fit.objective < 1e-8);
}

TEST_CASE("Halton points spread over the unit cube") {
    const Eigen::MatrixXd p = halton_points(8, 3);
    CHECK(p(0, 0) == doctest::Approx(0.5));
    CHECK(p(1, 0) == doctest::Approx(0.25));
    CHECK(p(0, 1) == doctest::Approx(1.0 / 3));
    CHECK(p(2, 2) == doctest::Approx(3.0 / 5));
    CHECK(p.minCoeff() > 0);
    CHECK(p.maxCoeff() < 1);
}

TEST_CASE("calibration sections: read, merged by name, checked") {
    const YAML::Node node = YAML::Load(kProfile);
    const auto params = read_fit_parameters(node, "p.yaml");
    REQUIRE(params.size() == 2);
    CHECK(params[0].lower == 3000);  // durations accepted
    CHECK_FALSE(params[0].scale);
    CHECK(params[1].scale);
    CHECK(params[1].keys.size() == 2);

    const auto merged = merge_fit_parameters({params, read_fit_parameters(node, "q.yaml")});
    REQUIRE(merged.size() == 2);
    CHECK(merged[0].profiles == std::vector<std::string>{"p.yaml", "q.yaml"});

    auto bad = [](const std::string& entry) {
        return error_of([&] { read_fit_parameters(YAML::Load("calibration:\n" + entry), "bad.yaml"); });
    };
    CHECK(bad("  - {name: x, keys: [nosuch_ns], mode: mean, lower: 1, upper: 2, reason: r}\n").find("nosuch_ns") !=
          std::string::npos);
    CHECK(bad("  - {name: x, keys: [syscall_ns], mode: mean, lower: 2, upper: 1, reason: r}\n").find("lower < upper") !=
          std::string::npos);
    CHECK(bad("  - {name: x, keys: [syscall_ns, submit_ns], mode: mean, lower: 1, upper: 2, reason: r}\n")
              .find("exactly one key") != std::string::npos);
    CHECK(bad("  - {name: x, keys: [syscall_ns], mode: mean, lower: 1, upper: 2}\n").find("missing 'reason'") !=
          std::string::npos);
    CHECK(bad("  - {name: x, keys: [syscall_ns], mode: mean, lower: 1, upper: 2, reason: r, extra: 1}\n")
              .find("bad.yaml:2:") != std::string::npos);

    auto conflicting = params;
    conflicting[0].upper = 50000;
    CHECK(error_of([&] { merge_fit_parameters({params, conflicting}); }).find("differ") != std::string::npos);
    std::vector<FitParameter> nine;
    for (int i = 0; i < 9; ++i) nine.push_back(param("p" + std::to_string(i), true, 0.5, 2));
    CHECK(error_of([&] { merge_fit_parameters({nine}); }).find("at most 8") != std::string::npos);
    nine.pop_back();
    CHECK(merge_fit_parameters({nine}).size() == 8);
}

TEST_CASE("cost overrides move a cost's mean and keep its shape") {
    const YAML::Node node = YAML::Load(kProfile);
    const auto pj = profile_to_json(profile_from_yaml(node, "p.yaml"));
    const std::vector<FitParameter> params = {param("lat", false, 1000, 50000, {"wakeup_latency_ns"}),
                                              param("svc", true, 0.5, 2, {"service.randread", "service.read"}),
                                              param("cpu", true, 0.5, 2, {"wakeup_cpu_ns"}),
                                              param("sys", false, 100, 5000, {"syscall_ns"})};
    CHECK(initial_value(params[0], pj) == 12000);
    CHECK(initial_value(params[1], pj) == 1);
    const auto sets = cost_overrides(params, Eigen::Vector4d(9000, 1.5, 2, 1234.4), pj, "p.yaml");
    REQUIRE(sets.size() == 5);
    std::vector<std::string> all = {"profile=" POLLSIM_TEST_DATA "/profiles/zero.yaml"};
    all.insert(all.end(), sets.begin(), sets.end());
    // zero.yaml has constants everywhere; the overrides bring the test profile's shapes.
    const Config c = load_config_text("{}", "t", ".", all);
    CHECK(c.profile.wakeup_latency_ns.kind() == Dist::Kind::lognormal);
    CHECK(c.profile.wakeup_latency_ns.mean_ns() == doctest::Approx(9000));
    CHECK(c.profile.service_randread_ns.mean_ns() == doctest::Approx(150000));
    CHECK(c.profile.service_read_ns.constant_ns() == 75000);
    CHECK(c.profile.wakeup_cpu_ns.mean_ns() == doctest::Approx(4000));
    CHECK(c.profile.syscall_ns.constant_ns() == 1234);
}

TEST_CASE("the calibrated profile is the source with the fitted values, and loads") {
    const YAML::Node node = YAML::Load(kProfile);
    auto params = read_fit_parameters(node, "p.yaml");
    const std::string text =
        calibrated_profile_yaml(kProfile, "p.yaml", params, rounded_values(params, Eigen::Vector2d(8765.4, 1.23456)), "note");
    CHECK(text.rfind("# GENERATED", 0) == 0);
    const YAML::Node out = YAML::Load(text);
    const Profile p = profile_from_yaml(out, "p-calibrated.yaml");
    CHECK(p.name == "test-calibrated");
    CHECK(p.wakeup_latency_ns.mean_ns() == doctest::Approx(8765));
    CHECK(p.service_randread_ns.mean_ns() == doctest::Approx(123000));
    CHECK(p.syscall_ns.constant_ns() == 2000);  // not a parameter: unchanged
    CHECK(out["calibration"].size() == 2);     // bounds stay with the profile

    CHECK(calibrated_path("configs/profiles/x.yaml") == "configs/profiles/x-calibrated.yaml");
    CHECK(source_of_calibrated("configs/profiles/x-calibrated.yaml") == "configs/profiles/x.yaml");
    CHECK_FALSE(error_of([] { source_of_calibrated("x.yaml"); }).empty());
}

TEST_CASE("calibration residuals: zero on the published figures, positive outside") {
    const auto published = nlohmann::ordered_json::parse(R"({
        "A": [{"poll_weight": 3, "throughput_change_pct": -2.2, "cpu_change_pct": -9.4},
              {"poll_weight": 2, "throughput_change_pct": -2.4, "cpu_change_pct": -10.9}],
        "B": [{"iothreads": 1, "throughput_change_pct": [-8, -3], "cpu_change_pct": [-25, -10]}]})");
    auto est = [](double v) { return Estimate{v, 0, {v}}; };
    std::vector<RowA> a = {{3, est(-2.2), est(-9.4), std::nullopt}, {2, est(-2.4), est(-10.9), std::nullopt}};
    RowB b;
    b.iothreads = 1;
    b.throughput_lo = {est(-8), "read"};
    b.throughput_hi = {est(-3), "write"};
    b.cpu_lo = {est(-25), "read"};
    b.cpu_hi = {est(-10), "write"};
    CHECK(calibration_residuals(a, {b}, published).norm() == doctest::Approx(0));

    a[0].cpu_pct = est(-9.4 + 3);  // at the tolerance: residual 1
    CHECK(calibration_residuals(a, {b}, published)[1] == doctest::Approx(1));
    a[1].cpu_pct = est(-5);        // weight 2 saving less than weight 3
    // Weight 2 at -5 against weight 3 at -6.4: 1.4 points the wrong way, in units of 0.5.
    CHECK(calibration_residuals(a, {b}, published)[4] == doctest::Approx(2.8));
    b.cpu_lo = {est(0), "read"};   // no overlap: CPU range [0, 5] against [-25, -10]
    b.cpu_hi = {est(5), "write"};
    const auto r = calibration_residuals(a, {b}, published);
    CHECK(r[7] == doctest::Approx(10.0 / 7.5));
}
