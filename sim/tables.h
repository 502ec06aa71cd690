// The cover letter's tables (DESIGN §8) from the sweeps under
// configs/cover-letter/: a.yaml, b.yaml and c.yaml, with the published
// figures in published.yaml beside them.
//
// Every change is (candidate - baseline) / baseline in percent, computed per
// scenario and per replication; baseline and candidate of a scenario share
// the seed (common random numbers), so replication r of both saw the same
// service and think times. An aggregate (a mean over scenarios, say) is
// formed within each replication, and its mean and 95 % interval are taken
// over replications.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/sweep.h"

namespace pollsim {

struct Estimate {
    double mean = 0, ci95 = 0;
    std::vector<double> values;  // one per replication
};
Estimate estimate_of(std::vector<double> values);

// One baseline/candidate comparison: a scenario at one poll-weight.
struct Change {
    std::map<std::string, std::string> scenario;  // varied keys other than the policy's
    int poll_weight = 0;
    Estimate throughput_pct, cpu_pct;
    // The QEMU process's CPU (IOThreads, vCPUs, KVM halt polling, kicks):
    // only when the runs report it (the guest-vcpus mechanism).
    std::optional<Estimate> process_cpu_pct;
    const nlohmann::ordered_json* baseline = nullptr;  // run reports (owned by the SweepResult)
    const nlohmann::ordered_json* candidate = nullptr;
};

// Pairs every `weighted` point with the `legacy` point of the same scenario.
// Throws InputError if a scenario lacks its baseline.
std::vector<Change> changes(const SweepResult& sweep);

struct RowA {
    int poll_weight = 0;
    Estimate throughput_pct, cpu_pct;
    std::optional<Estimate> process_cpu_pct;  // when every change has it
};
struct RangeEnd {
    Estimate value;
    std::string rw;  // the access pattern at this end of the range
};
struct RowB {
    int iothreads = 0;
    // Per access pattern (in sweep order), the change averaged over the other
    // varied keys; the range ends below are the extremes of these.
    std::vector<RangeEnd> throughput_by_rw, cpu_by_rw;
    RangeEnd throughput_lo, throughput_hi, cpu_lo, cpu_hi;
    std::optional<RangeEnd> process_cpu_lo, process_cpu_hi;  // when every change has it
};
struct RowC {
    std::string rw;
    int poll_weight = 0;
    Estimate mean_poll_ns, reset_rate, time_near_max;
    Estimate throughput_pct, cpu_pct;  // against legacy, for the trade-off plot
    const nlohmann::ordered_json* baseline = nullptr;  // run reports (owned by the SweepResult)
    const nlohmann::ordered_json* candidate = nullptr;
};

std::vector<RowA> table_a(const SweepResult& a);  // one row per weight, as in the sweep
std::vector<RowB> table_b(const SweepResult& b);
std::vector<RowC> table_c(const SweepResult& c);

// published.yaml, read into the --json shape ({"A": [...], "B": [...]}).
nlohmann::ordered_json load_published(const std::string& sweeps_dir);

struct CoverLetterRun {
    SweepSpec spec_a, spec_b, spec_c;
    SweepResult a, b, c;
    std::vector<RowA> rows_a;
    std::vector<RowB> rows_b;
    std::vector<RowC> rows_c;
    nlohmann::ordered_json published;
    int ran = 0, cached = 0;  // points run now / taken from the cache (shared points count once)
};

struct TablesOptions {
    std::string sweeps_dir = "configs/cover-letter";
    std::string cache_dir;  // "" keeps nothing on disk
    int threads = 0;
    std::vector<std::string> extra_sets;  // applied to every point (tests: short runs)
    std::function<void(const SweepProgress&)> progress;
};

// Loads the three sweeps (all points checked before any runs), runs their
// points as one pool and builds the tables.
CoverLetterRun run_cover_letter(const TablesOptions& options);

// The --json document: exactly {"A": [...], "B": [...], "C": [...]}.
nlohmann::ordered_json tables_json(const CoverLetterRun& run);
// Markdown: published beside simulated, with 95 % intervals and targets.
std::string tables_markdown(const CoverLetterRun& run);

// Residuals of every published figure (simulated - published, points of
// percent): A throughput and CPU per weight, B range ends per IOThread count.
struct Residual {
    std::string figure;  // "A w=3 throughput", "B 1 IOThread CPU lo", ...
    double published = 0, simulated = 0, tolerance = 0;
    bool met = false;    // within the tolerance (A) or ranges overlap (B)
};
std::vector<Residual> residuals(const std::vector<RowA>& a, const std::vector<RowB>& b,
                                const nlohmann::ordered_json& published);
// Whether weight 2 saves more CPU than weight 3 (the cover letter's ordering).
bool weight2_saves_more(const std::vector<RowA>& a);

// Writes tables.md, tables.json, a.csv, b.csv, c.csv and the plots into dir;
// returns the file names written.
std::vector<std::string> write_cover_letter(const CoverLetterRun& run, const std::string& dir);

}  // namespace pollsim
