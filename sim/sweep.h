// Parameter sweeps (issue 3 item 1): a YAML file names a base config, fixed
// overrides and the keys to vary; every combination is one point, run as an
// independent configuration. Finished points are cached on disk under a key
// derived from the resolved configuration, so an interrupted sweep resumes.
//
// Sweep file:
//   base: ../default.yaml            # config, relative to this file (required)
//   set:  {duration: 1s}             # fixed --set overrides (optional)
//   vary:                            # each key a list; cartesian product
//     workload.rw: [randread, randwrite]
//   zip:                             # optional: each group's lists move together
//     - {policy: [legacy, weighted], iothread.poll-weight: [0, 3]}
// Axes nest in the order written: the first is the outermost loop.
#pragma once
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "sim/config.h"

namespace YAML { class Node; }

namespace pollsim {

// The most points a sweep may have (the product of its axes' sizes); a
// larger sweep is refused with its count when it is read.
inline constexpr uint64_t kMaxSweepPoints = 100000;

// One dimension of the product: one `vary` key, or one `zip` group.
struct SweepAxis {
    std::vector<std::string> keys;
    std::vector<std::vector<std::string>> values;  // values[i][k]: key k at position i
    std::vector<std::vector<std::string>> where;   // where[i][k]: "FILE:LINE:COL: key 'vary.K'" of that value
    size_t size() const { return values.size(); }
};

struct SweepSpec {
    std::string file;                // for messages and reports
    std::string dir;                 // relative paths in the file resolve here
    std::string base_path;           // resolved against the sweep file
    std::vector<std::pair<std::string, std::string>> sets;  // fixed overrides
    std::vector<std::string> set_where;  // parallel to sets: "FILE:LINE:COL: key 'set.K'"
    std::vector<SweepAxis> axes;

    // "key=value" for apply_set, with file paths (profile, workload.trace)
    // resolved against the sweep file rather than the working directory.
    std::string assignment(const std::string& key, const std::string& value) const;

    std::vector<std::string> varied_keys() const;
    size_t point_count() const;
};

// (key, value) for each varied key, in column order.
using Assignment = std::vector<std::pair<std::string, std::string>>;

struct SweepPoint {
    size_t index = 0;  // position in the sweep's enumeration (expand order), from 0
    Assignment vary;
    std::vector<std::string> sets;  // every override applied to the base, in order
    Config config;
    std::string key;  // cache key: hash of the resolved config and the version
};

// Reads and checks a sweep file (falls back to the copy embedded in the
// binary for paths under configs/). Throws InputError "FILE:LINE:COL: key
// 'vary.x': ..." for unknown keys, empty or ragged lists and a missing base.
SweepSpec load_sweep(const std::string& path);
SweepSpec parse_sweep(const std::string& text, const std::string& name, const std::string& base_dir);

// The cartesian product, first axis outermost.
std::vector<Assignment> expand(const SweepSpec& spec);

// Loads every point's configuration, so that any bad value is reported
// before anything runs. `extra_sets` apply after the file's `set:` and
// before the varied values. Every point runs its replications on one thread.
std::vector<SweepPoint> resolve_points(const SweepSpec& spec, const std::vector<std::string>& extra_sets = {});

// Hex FNV-1a of `prefix` followed by the configuration JSON minus where it
// came from (file names), so moving or renaming files keeps the hash and
// editing any value (profile included) changes it. Sweep cache keys and
// check's scenario hashes are both this.
std::string config_fingerprint(const Config& config, const std::string& prefix = "");

// The cache key of a point: config_fingerprint salted with the pollsim
// version and the model's source hash (model_id(), sim/embedded.h), so a
// point cached by other model code runs again.
std::string point_key(const Config& config);

// The `base:` entry of a sweep or check suite file: a config path, resolved
// beside `file` (whose directory is `dir`), that must exist. Throws
// InputError "FILE:LINE:COL: key 'base': ...".
std::string read_base_path(const YAML::Node& node, const std::string& file, const std::string& dir);

struct SweepProgress {
    int done = 0;       // points finished, cached ones included
    int total = 0;
    int cached = 0;     // of those, taken from the cache
    double elapsed_s = 0;
    double eta_s = -1;  // -1 while unknown
};

struct SweepOptions {
    std::string cache_dir;  // DIR/points; "" keeps nothing on disk
    int threads = 0;        // points in parallel; 0: all cores
    std::function<void(const SweepProgress&)> progress;
};

struct SweepResult {
    std::vector<std::string> columns;  // the varied keys
    std::vector<SweepPoint> points;
    std::vector<nlohmann::ordered_json> reports;  // run JSON per point, without run.wall_s
    int ran = 0, cached = 0;
    double wall_s = 0;
};

SweepResult run_points(std::vector<SweepPoint> points, std::vector<std::string> columns, const SweepOptions& options);

// Several sweeps' points run as one pool, so every core stays busy to the end
// and points they share run once; the results are split back, one
// SweepResult per group in order (columns left empty).
struct PooledResult {
    std::vector<SweepResult> parts;
    int ran = 0, cached = 0;  // over the pool: a shared point counts once
};
PooledResult run_pooled(std::vector<std::vector<SweepPoint>> groups, const SweepOptions& options);

// The metrics of results.csv, as paths into the run JSON's "metrics".
const std::vector<std::string>& csv_metrics();
std::string results_csv(const SweepResult& result);
nlohmann::ordered_json results_json(const SweepResult& result, const std::string& sweep_file);
// DIR/results.csv and DIR/results.json, atomically.
void write_results(const SweepResult& result, const std::string& sweep_file, const std::string& dir);

// `sweep --plot`: DIR/tradeoff.svg (IOThread CPU against throughput, one
// marker per point) and DIR/poll-histogram.svg (poll.ns histogram per point;
// the first 10 points if there are more). Returns the files written.
std::vector<std::string> write_sweep_plots(const SweepResult& result, const std::string& dir);

// Shards (issue 13): a sweep split into N independent parts that any
// scheduler (GNU parallel, a Slurm job array) runs, merged back by
// merge_shards. Point P belongs to shard P mod N, P being its position in the
// sweep's enumeration: the sweep file alone decides it, never -j, --set or
// the machine, so every shard agrees on the split without talking.
struct Shard {
    size_t index = 0, count = 1;
    bool has(const SweepPoint& p) const { return p.index % count == index; }
    std::string name() const;           // "I/N"
    std::string manifest_file() const;  // "shard-I-of-N.json"
};

// "I/N" with 0 <= I < N; throws InputError otherwise.
Shard parse_shard(const std::string& text);

// The points of one shard, in sweep order.
std::vector<SweepPoint> shard_points(std::vector<SweepPoint> points, const Shard& shard);

// DIR/shard-I-of-N.json, written when the shard's last point is done: the
// sweep, the pollsim version and each point's index and key, so that merge
// can tell a lost shard from a mismatched one.
void write_shard_manifest(const SweepResult& result, const Shard& shard, const std::string& sweep_file,
                          const std::string& dir);

// `sweep merge`: the reports of all `points` (resolved as the shards
// resolved them) from DIR/points/ of the shard directories, as if run in one
// sweep. Throws InputError naming every missing point (with the shard that
// should have produced it), every point whose copies differ and every
// manifest from another pollsim version or another resolved configuration.
SweepResult merge_shards(std::vector<SweepPoint> points, std::vector<std::string> columns,
                         const std::vector<std::string>& dirs);

// A progress printer for stderr: a redrawn bar with ETA on a terminal,
// otherwise a plain line every few seconds and at the end.
std::function<void(const SweepProgress&)> stderr_progress(const std::string& label, bool tty);

// Looks a metric up by dotted path ("cpu.iothread_util") in a run report's
// metrics; returns its {"mean","ci95","values"} leaf.
const nlohmann::ordered_json& metric_leaf(const nlohmann::ordered_json& report, const std::string& path);

// Number formatting shared by every generated file: shortest form that
// round-trips for the precision we report, and stable across runs.
std::string format_number(double v, int significant = 10);

}  // namespace pollsim
