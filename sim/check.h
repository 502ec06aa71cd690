// `pollsim check` (issue 3 item 5): a regression gate for CI. A fixed suite
// of short scenarios runs, and every metric the run report carries is
// compared with a committed baseline, within a tolerance stored per metric
// in the baseline itself (so a reviewer sees the limits in the diff).
//
// Suite file (configs/check/suite.yaml; relative paths resolve beside it):
//   base: base.yaml                  # config every scenario starts from
//   set: {duration: 300ms}           # fixed overrides (optional)
//   axes:                            # cartesian product, first axis outermost
//     storage:                       # axis name (for messages)
//       fcp:   {profile: ../profiles/s390x-fcp.yaml}     # level: --set overrides
//       ficon: {profile: ../profiles/s390x-ficon.yaml}
//     policy:
//       legacy:   {policy: legacy}
//       weighted: {policy: weighted, iothread.poll-weight: 3}
//   tolerance: {k: 3, rel_floor: 1e-4}   # optional, see ToleranceRule
// A scenario is named by its level names joined with '/' ("ficon/legacy").
#pragma once
#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/config.h"

namespace pollsim {

inline constexpr const char* kDefaultSuite = "configs/check/suite.yaml";

// How --update turns a metric's mean and 95 % half-width into a tolerance:
//   tol = max(k * sqrt(2) * ci95, rel_floor * |mean|, floor of its kind)
// sqrt(2) * ci95 is the half-width of the difference of two independent
// runs with the baseline's spread; k widens it because hundreds of metrics
// are tested at once. The floors matter where the interval is 0 (all
// replications agree, e.g. quantiles falling in one histogram bucket).
struct ToleranceRule {
    double k = 3;
    double rel_floor = 1e-4;                 // every metric, of |mean|
    double quantile_rel_floor = 1.0 / 128;   // latency_ns.p*: one histogram sub-bucket
    double fraction_abs_floor = 1e-4;        // cpu.*, poll.*_rate, poll.time_near_max
    double abs_floor = 1;                    // the rest: 1 ns, 1 event, 1 request/s

    nlohmann::ordered_json to_json() const;
};

// `metric` is a flattened path ("latency_ns.p99", "iothread[1].cpu.poll").
double derive_tolerance(const std::string& metric, double mean, double ci95, const ToleranceRule& rule);

struct Scenario {
    std::string name;         // "fcp/weighted/2t/randread"
    std::vector<std::string> sets;  // the suite's overrides, in order, before the user's --set
    Config config;            // as it runs: the suite's overrides, then --set; one thread
    std::string config_hash;  // of the config as the suite writes it, without --set
};

struct Suite {
    std::string file;
    ToleranceRule tolerance;
    std::vector<Scenario> scenarios;
};

// Reads the suite (falling back to the copy embedded in the binary for paths
// under configs/) and resolves every scenario, `sets` applied last to each,
// so any bad key or value is reported before anything runs.
Suite load_suite(const std::string& path, const std::vector<std::string>& sets = {});

// config_fingerprint (sim/sweep.h) of the resolved configuration, unsalted:
// moving the suite keeps the hash and editing any value (profile included)
// changes it.
std::string config_hash(const Config& config);

// Every {"mean","ci95"} leaf of a run report as {path: {"mean","ci95"}}: the
// overall metrics, then, with several IOThreads, each one's under
// "iothread[N].". Lists (the poll.ns histogram) are left out: they carry no
// interval, and mean_poll_ns and time_near_max summarise them.
nlohmann::ordered_json flatten_metrics(const nlohmann::ordered_json& report);

// The baseline document for a suite and its run reports (same order).
nlohmann::ordered_json make_baseline(const Suite& suite, const std::vector<nlohmann::ordered_json>& reports);

// Throws InputError (naming `file`) unless `baseline` has the layout
// make_baseline writes.
void validate_baseline(const nlohmann::ordered_json& baseline, const std::string& file);

// Throws InputError, telling the user to run --update, if the baseline's
// scenarios, config hashes or tolerance rule differ from the suite's.
void match_suite(const nlohmann::ordered_json& baseline, const Suite& suite, const std::string& file);

enum class Verdict { ok, fail, missing, added };

struct MetricDelta {
    std::string scenario, metric;
    double baseline = 0, current = 0, tolerance = 0;
    Verdict verdict = Verdict::ok;

    bool failed() const { return verdict == Verdict::fail || verdict == Verdict::missing; }
    // |current - baseline| as a share of the tolerance (0 when identical).
    double tolerance_used() const;
};

// Compares one scenario: `baseline_metrics` is its {path: {"mean","ci95","tol"}}
// from the baseline, `current` the flatten_metrics of the new run. A metric
// the baseline has and the run lacks fails ("missing"); one the run adds is
// listed but passes until --update records it.
std::vector<MetricDelta> compare_metrics(const std::string& scenario, const nlohmann::ordered_json& baseline_metrics,
                                         const nlohmann::ordered_json& current);

// The table of deltas: failures (and added metrics) only, or every row.
void print_deltas(std::ostream& os, const std::vector<MetricDelta>& rows, bool verbose);

struct CheckOptions {
    std::string baseline_path;
    std::string suite_path = kDefaultSuite;
    std::vector<std::string> sets;  // applied to every scenario
    bool update = false;            // rewrite the baseline instead of comparing
    bool verbose = false;           // print every metric, not only failures
    int threads = 0;                // scenarios in parallel; 0: all cores
    bool progress = false;          // redraw a progress line on stderr
};

// The whole command. Returns the exit status: 0 all metrics hold (or the
// baseline was written), 1 some regressed, 2 bad usage or input (message on
// `err`).
int run_check(const CheckOptions& options, std::ostream& out, std::ostream& err);

}  // namespace pollsim
