#include "sim/check.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <ostream>
#include <set>
#include <sstream>
#include <yaml-cpp/yaml.h>

#include "sim/source_file.h"
#include "sim/error.h"
#include "sim/runner.h"
#include "sim/sweep.h"

namespace fs = std::filesystem;

namespace pollsim {

using ojson = nlohmann::ordered_json;

namespace {

// Bumped when the baseline layout changes, so an old file is refused with a
// clear message instead of being half-understood.
constexpr const char* kBaselineFormat = "pollsim-check-baseline/1";

// ---------------------------------------------------------------- tolerance

enum class MetricKind { quantile, fraction, other };

MetricKind kind_of(const std::string& metric) {
    // Per-IOThread copies share the kind of the overall metric.
    std::string m = metric;
    if (m.rfind("iothread[", 0) == 0) m = m.substr(m.find("].") + 2);
    if (m.rfind("latency_ns.p", 0) == 0) return MetricKind::quantile;
    if (m.rfind("cpu.", 0) == 0 || m == "poll.reset_rate" || m == "poll.success_rate" || m == "poll.time_near_max")
        return MetricKind::fraction;
    return MetricKind::other;
}

// ---------------------------------------------------------------- suite file

struct Level {
    std::string name;
    std::vector<std::string> sets;
};

class SuiteParser {
public:
    SuiteParser(std::string file, std::string dir) : file_(std::move(file)), dir_(std::move(dir)) {}

    // Fills everything but the resolved scenarios.
    void parse(const std::string& text) {
        const YAML::Node root = parse_yaml(text, file_);
        if (!root.IsMap()) throw InputError(file_ + ": a check suite must be a map with base, set, axes, tolerance");
        for (const auto& kv : root) {
            const std::string k = kv.first.Scalar();
            if (k == "base") base_path = read_base_path(kv.second, file_, dir_);
            else if (k == "set") fixed_sets = read_overrides(kv.second, "set");
            else if (k == "axes") read_axes(kv.second);
            else if (k == "tolerance") read_tolerance(kv.second);
            else if (k == "description") continue;
            else throw InputError(yaml_where(kv.first, file_, k) + ": unknown key; valid keys: base, set, axes, tolerance, description");
        }
        if (base_path.empty()) throw InputError(file_ + ": key 'base' is required (the config every scenario starts from)");
        if (axes.empty()) throw InputError(file_ + ": key 'axes' is required (at least one axis of named levels)");
    }

    std::string base_path;
    std::vector<std::string> fixed_sets;
    std::vector<std::vector<Level>> axes;
    ToleranceRule tolerance;

private:
    // A map of --set keys to values, checked here so that an unknown key is
    // reported at its line rather than as a bare "--set" error later.
    std::vector<std::string> read_overrides(const YAML::Node& n, const std::string& where) {
        if (n.IsNull()) return {};
        if (!n.IsMap()) throw InputError(yaml_where(n, file_, where) + ": expected a map of key: value overrides");
        std::vector<std::string> sets;
        for (const auto& kv : n)
            sets.push_back(file_assignment(checked_config_key(kv.first, file_, where), yaml_value_text(kv.second), dir_));
        return sets;
    }

    void read_axes(const YAML::Node& n) {
        if (!n.IsMap() || n.size() == 0)
            throw InputError(yaml_where(n, file_, "axes") + ": expected a non-empty map of axes (axis: {level: {key: value}})");
        for (const auto& axis : n) {
            const std::string axis_name = axis.first.Scalar();
            const std::string where = "axes." + axis_name;
            if (!axis.second.IsMap() || axis.second.size() == 0)
                throw InputError(yaml_where(axis.second, file_, where) +
                                 ": expected a non-empty map of levels (name: {key: value, ...})");
            std::vector<Level> levels;
            std::set<std::string> seen;
            for (const auto& level : axis.second) {
                Level l;
                l.name = level.first.Scalar();
                if (l.name.empty() || l.name.find('/') != std::string::npos)
                    throw InputError(yaml_where(level.first, file_, where) + ": level name '" + l.name +
                                     "' must be non-empty and without '/' (it becomes part of scenario names)");
                if (!seen.insert(l.name).second)
                    throw InputError(yaml_where(level.first, file_, where + "." + l.name) + ": duplicate level");
                l.sets = read_overrides(level.second, where + "." + l.name);
                levels.push_back(std::move(l));
            }
            axes.push_back(std::move(levels));
        }
    }

    void read_tolerance(const YAML::Node& n) {
        if (!n.IsMap()) throw InputError(yaml_where(n, file_, "tolerance") + ": expected a map");
        const std::pair<const char*, double ToleranceRule::*> fields[] = {
            {"k", &ToleranceRule::k},
            {"rel_floor", &ToleranceRule::rel_floor},
            {"quantile_rel_floor", &ToleranceRule::quantile_rel_floor},
            {"fraction_abs_floor", &ToleranceRule::fraction_abs_floor},
            {"abs_floor", &ToleranceRule::abs_floor},
        };
        for (const auto& kv : n) {
            const std::string key = kv.first.Scalar();
            const auto* f = std::find_if(std::begin(fields), std::end(fields), [&](const auto& p) { return key == p.first; });
            if (f == std::end(fields))
                throw InputError(yaml_where(kv.first, file_, "tolerance." + key) +
                                 ": unknown key; valid keys: k, rel_floor, quantile_rel_floor, fraction_abs_floor, abs_floor");
            double v = -1;
            try {
                v = kv.second.as<double>();
            } catch (const YAML::Exception&) {
            }
            if (!(v >= 0) || !std::isfinite(v))
                throw InputError(yaml_where(kv.second, file_, "tolerance." + key) + ": expected a number >= 0");
            tolerance.*(f->second) = v;
        }
    }

    std::string file_, dir_;
};

void flatten_into(const ojson& node, const std::string& prefix, ojson& out) {
    for (const auto& [key, value] : node.items()) {
        if (!value.is_object()) continue;  // lists: the poll.ns histogram
        const std::string path = prefix + key;
        if (value.contains("mean") && value.contains("ci95"))
            out[path] = {{"mean", value["mean"]}, {"ci95", value["ci95"]}};
        else
            flatten_into(value, path + ".", out);
    }
}

// ---------------------------------------------------------------- baseline

std::string update_hint(const std::string& baseline_file) {
    return "if the change is intended, run `pollsim check --baseline " + baseline_file +
           " --update` and commit the new baseline";
}

ojson read_baseline(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw InputError("cannot open baseline '" + path + "'; create it with `pollsim check --baseline " + path +
                         " --update`");
    ojson j;
    try {
        j = ojson::parse(in);
    } catch (const nlohmann::json::parse_error& e) {
        throw InputError(path + ": malformed baseline JSON: " + e.what());
    }
    validate_baseline(j, path);
    return j;
}

// ---------------------------------------------------------------- output

std::string number(double v) {
    if (!std::isfinite(v)) return v > 0 ? "inf" : v < 0 ? "-inf" : "nan";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return std::strcmp(buf, "-0") == 0 ? "0" : buf;
}

std::string delta_pct(const MetricDelta& d) {
    if (d.verdict == Verdict::missing || d.verdict == Verdict::added) return "-";
    if (d.current == d.baseline) return "0%";
    if (d.baseline == 0) return "n/a";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.3g%%", 100.0 * (d.current - d.baseline) / std::fabs(d.baseline));
    return buf;
}

const char* verdict_text(Verdict v) {
    switch (v) {
        case Verdict::ok: return "OK";
        case Verdict::fail: return "FAIL";
        case Verdict::missing: return "MISSING";
        case Verdict::added: return "NEW";
    }
    return "?";
}

std::string seconds(double s) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f s", s);
    return buf;
}

// Runs every scenario, one worker thread each, so the reports are the same
// whatever `threads` is (each run_config is itself deterministic).
std::vector<ojson> run_suite(const Suite& suite, int threads, std::ostream* progress) {
    const int n = static_cast<int>(suite.scenarios.size());
    std::vector<ojson> reports(n);
    std::atomic<int> done{0};
    std::mutex progress_mutex;
    parallel_for(n, threads, [&](int i) {
        reports[i] = run_config(suite.scenarios[i].config).report;
        const int d = ++done;
        if (progress) {
            std::lock_guard<std::mutex> lock(progress_mutex);
            *progress << "\rcheck: " << d << "/" << n << " scenarios" << std::flush;
        }
    });
    if (progress) *progress << "\r" << std::string(40, ' ') << "\r" << std::flush;
    return reports;
}

int check_or_update(const CheckOptions& o, std::ostream& out, std::ostream& err) {
    if (o.baseline_path.empty()) throw InputError("--baseline FILE is required (see --help)");
    if (o.update && !o.sets.empty())
        throw InputError("--update records the suite as written, and --set would bake a perturbation into the "
                         "baseline; change the files under configs/check/ instead");
    // Bad --set keys are the user's, not a scenario's: say so once, up front.
    for (const auto& s : o.sets) {
        YAML::Node scratch(YAML::NodeType::Map);
        apply_set(scratch, s);
    }
    const Suite suite = load_suite(o.suite_path, o.sets);
    ojson baseline;
    if (!o.update) {
        baseline = read_baseline(o.baseline_path);
        match_suite(baseline, suite, o.baseline_path);
        const std::string version = baseline["pollsim_version"].get<std::string>();
        if (version != POLLSIM_VERSION)
            out << "note: baseline written by pollsim " << version << ", this is " << POLLSIM_VERSION << "\n";
    }
    if (!o.sets.empty()) {
        out << "check: every scenario perturbed by";
        for (const auto& s : o.sets) out << " --set " << s;
        out << "\n";
    }

    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<ojson> reports = run_suite(suite, o.threads, o.progress ? &err : nullptr);
    const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    if (o.update) {
        const ojson fresh = make_baseline(suite, reports);
        write_file_atomic(o.baseline_path, fresh.dump(2) + "\n");
        size_t metrics = 0;
        for (const auto& s : fresh["scenarios"]) metrics += s["metrics"].size();
        out << "check: wrote " << o.baseline_path << ": " << suite.scenarios.size() << " scenarios, " << metrics
            << " metrics (" << seconds(wall_s) << ")\n";
        return 0;
    }

    std::vector<MetricDelta> rows;
    std::set<std::string> failed_scenarios;
    const auto& by_name = baseline["scenarios"];
    for (size_t i = 0; i < suite.scenarios.size(); ++i) {
        const std::string& name = suite.scenarios[i].name;
        const auto it = std::find_if(by_name.begin(), by_name.end(), [&](const ojson& s) { return s["name"] == name; });
        auto deltas = compare_metrics(name, (*it)["metrics"], flatten_metrics(reports[i]));
        for (auto& d : deltas) {
            if (d.failed()) failed_scenarios.insert(name);
            rows.push_back(std::move(d));
        }
    }
    print_deltas(out, rows, o.verbose);

    size_t compared = 0, failed = 0, identical = 0, added = 0;
    const MetricDelta* closest = nullptr;
    for (const auto& d : rows) {
        if (d.verdict == Verdict::added) {
            ++added;
            continue;
        }
        ++compared;
        if (d.failed()) ++failed;
        if (d.verdict == Verdict::ok && d.current == d.baseline) ++identical;
        if (d.verdict == Verdict::ok && (!closest || d.tolerance_used() > closest->tolerance_used())) closest = &d;
    }
    if (failed) {
        out << "check: FAIL: " << failed << " of " << compared << " metrics outside tolerance in "
            << failed_scenarios.size() << " of " << suite.scenarios.size() << " scenarios (" << seconds(wall_s)
            << "); " << update_hint(o.baseline_path) << "\n";
        return 1;
    }
    out << "check: OK: " << compared << " metrics in " << suite.scenarios.size() << " scenarios within tolerance, "
        << identical << " identical to the baseline";
    if (closest && closest->tolerance_used() > 0) {
        char used[32];
        std::snprintf(used, sizeof used, "%.0f%%", 100 * closest->tolerance_used());
        out << "; closest to its limit: " << closest->scenario << " " << closest->metric << " at " << used;
    }
    if (added) out << "; " << added << " new metrics not in the baseline yet";
    out << " (" << seconds(wall_s) << ")\n";
    return 0;
}

}  // namespace

ojson ToleranceRule::to_json() const {
    return {{"formula", "max(k * sqrt(2) * ci95, rel_floor * |mean|, kind floor)"},
            {"k", k},
            {"rel_floor", rel_floor},
            {"quantile_rel_floor", quantile_rel_floor},
            {"fraction_abs_floor", fraction_abs_floor},
            {"abs_floor", abs_floor}};
}

double derive_tolerance(const std::string& metric, double mean, double ci95, const ToleranceRule& rule) {
    const double magnitude = std::fabs(mean);
    double floor = 0;
    switch (kind_of(metric)) {
        case MetricKind::quantile: floor = rule.quantile_rel_floor * magnitude; break;
        case MetricKind::fraction: floor = rule.fraction_abs_floor; break;
        case MetricKind::other: floor = rule.abs_floor; break;
    }
    return std::max({rule.k * std::sqrt(2.0) * ci95, rule.rel_floor * magnitude, floor});
}

Suite load_suite(const std::string& path, const std::vector<std::string>& sets) {
    Suite suite;
    // Off disk, the binary's embedded configs/**.yaml serve (use outside a checkout).
    const SourceText src = read_source(path, "check suite", true);
    suite.file = src.name;
    SuiteParser parser(src.name, src.dir);
    parser.parse(src.text);
    suite.tolerance = parser.tolerance;

    // Odometer over the axes, last axis fastest, so scenarios sort by the
    // first axis as the file reads.
    std::vector<size_t> pos(parser.axes.size(), 0);
    for (bool more = true; more;) {
        Scenario s;
        s.sets = parser.fixed_sets;
        for (size_t a = 0; a < parser.axes.size(); ++a) {
            const Level& l = parser.axes[a][pos[a]];
            s.name += (a ? "/" : "") + l.name;
            s.sets.insert(s.sets.end(), l.sets.begin(), l.sets.end());
        }
        try {
            const Config as_written = load_config(parser.base_path, s.sets);
            s.config_hash = config_hash(as_written);
            if (sets.empty()) {
                s.config = as_written;
            } else {
                std::vector<std::string> all = s.sets;
                all.insert(all.end(), sets.begin(), sets.end());
                s.config = load_config(parser.base_path, all);
            }
        } catch (const InputError& e) {
            throw InputError(suite.file + ": scenario '" + s.name + "': " + e.what());
        }
        // Scenarios are the unit of parallelism; one thread each keeps the
        // results independent of the thread count.
        s.config.threads = 1;
        suite.scenarios.push_back(std::move(s));

        more = false;
        for (size_t a = parser.axes.size(); a-- > 0;) {
            if (++pos[a] < parser.axes[a].size()) {
                more = true;
                break;
            }
            pos[a] = 0;
        }
    }
    return suite;
}

std::string config_hash(const Config& config) { return config_fingerprint(config); }

ojson flatten_metrics(const ojson& report) {
    ojson out = ojson::object();
    flatten_into(report.at("metrics"), "", out);
    // With one IOThread its metrics are the overall ones; listing them twice
    // would only double every failure.
    if (report.contains("per_iothread") && report["per_iothread"].size() > 1)
        for (const auto& t : report["per_iothread"])
            flatten_into(t.at("metrics"), "iothread[" + std::to_string(t.at("iothread").get<int>()) + "].", out);
    return out;
}

ojson make_baseline(const Suite& suite, const std::vector<ojson>& reports) {
    ojson j;
    j["format"] = kBaselineFormat;
    j["pollsim_version"] = POLLSIM_VERSION;
    j["suite"] = suite.file;
    j["tolerance_rule"] = suite.tolerance.to_json();
    j["scenarios"] = ojson::array();
    for (size_t i = 0; i < suite.scenarios.size(); ++i) {
        ojson metrics = ojson::object();
        const ojson flat = flatten_metrics(reports.at(i));
        for (const auto& [path, leaf] : flat.items()) {
            const double mean = leaf["mean"].is_number() ? leaf["mean"].get<double>() : 0.0;
            const double ci95 = leaf["ci95"].is_number() ? leaf["ci95"].get<double>() : 0.0;
            metrics[path] = {{"mean", leaf["mean"]},
                             {"ci95", leaf["ci95"]},
                             {"tol", derive_tolerance(path, mean, ci95, suite.tolerance)}};
        }
        j["scenarios"].push_back({{"name", suite.scenarios[i].name},
                                  {"config_hash", suite.scenarios[i].config_hash},
                                  {"metrics", std::move(metrics)}});
    }
    return j;
}

void validate_baseline(const ojson& j, const std::string& file) {
    auto bad = [&](const std::string& what) {
        return InputError(file + ": not a usable check baseline: " + what + "; regenerate it with `pollsim check --baseline " +
                          file + " --update`");
    };
    if (!j.is_object()) throw bad("expected a JSON object");
    if (!j.contains("format") || j["format"] != kBaselineFormat)
        throw bad(std::string("expected \"format\": \"") + kBaselineFormat + "\"");
    if (!j.contains("pollsim_version") || !j["pollsim_version"].is_string()) throw bad("no \"pollsim_version\"");
    if (!j.contains("tolerance_rule") || !j["tolerance_rule"].is_object()) throw bad("no \"tolerance_rule\" object");
    if (!j.contains("scenarios") || !j["scenarios"].is_array()) throw bad("no \"scenarios\" list");
    std::set<std::string> names;
    for (const auto& s : j["scenarios"]) {
        if (!s.is_object() || !s.contains("name") || !s["name"].is_string())
            throw bad("a scenario without a \"name\"");
        const std::string name = s["name"].get<std::string>();
        if (!names.insert(name).second) throw bad("scenario '" + name + "' appears twice");
        if (!s.contains("config_hash") || !s["config_hash"].is_string()) throw bad("scenario '" + name + "' has no \"config_hash\"");
        if (!s.contains("metrics") || !s["metrics"].is_object()) throw bad("scenario '" + name + "' has no \"metrics\" object");
        for (const auto& [metric, leaf] : s["metrics"].items()) {
            // A mean may be null (NaN cannot be written in JSON); the tolerance must be real.
            const bool ok = leaf.is_object() && leaf.contains("mean") && (leaf["mean"].is_number() || leaf["mean"].is_null()) &&
                            leaf.contains("tol") && leaf["tol"].is_number() && leaf["tol"].get<double>() >= 0;
            if (!ok) throw bad("scenario '" + name + "' metric '" + metric + "' needs a numeric \"mean\" and \"tol\" >= 0");
        }
    }
}

void match_suite(const ojson& baseline, const Suite& suite, const std::string& file) {
    std::vector<std::string> in_baseline, in_suite;
    for (const auto& s : baseline["scenarios"]) in_baseline.push_back(s["name"].get<std::string>());
    for (const auto& s : suite.scenarios) in_suite.push_back(s.name);
    std::string missing, extra;
    for (const auto& n : in_suite)
        if (std::find(in_baseline.begin(), in_baseline.end(), n) == in_baseline.end()) missing += " " + n;
    for (const auto& n : in_baseline)
        if (std::find(in_suite.begin(), in_suite.end(), n) == in_suite.end()) extra += " " + n;
    if (!missing.empty() || !extra.empty()) {
        std::string msg = "the scenarios of " + suite.file + " and of the baseline " + file + " differ:";
        if (!missing.empty()) msg += "\n  not in the baseline:" + missing;
        if (!extra.empty()) msg += "\n  not in the suite:" + extra;
        throw InputError(msg + "\n" + update_hint(file));
    }
    std::string changed;
    for (const auto& s : suite.scenarios)
        for (const auto& b : baseline["scenarios"])
            if (b["name"] == s.name && b["config_hash"] != s.config_hash) changed += " " + s.name;
    if (!changed.empty())
        throw InputError("scenario configurations changed since the baseline " + file +
                         " was written (suite, base config or profile edited):" + changed + "\n" + update_hint(file));
    // The stored tolerances were derived with the baseline's rule; a new rule
    // in the suite means they are stale.
    ojson rule = suite.tolerance.to_json();
    if (baseline["tolerance_rule"] != rule)
        throw InputError("the tolerance rule in " + suite.file + " differs from the one " + file + " was written with (" +
                         baseline["tolerance_rule"].dump() + ")\n" + update_hint(file));
}

double MetricDelta::tolerance_used() const {
    const double d = std::fabs(current - baseline);
    if (d == 0) return 0;
    return tolerance > 0 ? d / tolerance : std::numeric_limits<double>::infinity();
}

std::vector<MetricDelta> compare_metrics(const std::string& scenario, const ojson& baseline_metrics, const ojson& current) {
    std::vector<MetricDelta> rows;
    for (const auto& [metric, leaf] : baseline_metrics.items()) {
        MetricDelta d;
        d.scenario = scenario;
        d.metric = metric;
        d.baseline = leaf["mean"].is_number() ? leaf["mean"].get<double>() : std::nan("");
        d.tolerance = leaf["tol"].get<double>();
        if (!current.contains(metric) || !current[metric].is_object() || !current[metric].contains("mean")) {
            d.verdict = Verdict::missing;
        } else {
            const ojson& mean = current[metric]["mean"];
            d.current = mean.is_number() ? mean.get<double>() : std::nan("");
            // Written so that NaN on either side fails: NaN compares false.
            d.verdict = std::fabs(d.current - d.baseline) <= d.tolerance ? Verdict::ok : Verdict::fail;
        }
        rows.push_back(std::move(d));
    }
    for (const auto& [metric, leaf] : current.items()) {
        if (baseline_metrics.contains(metric)) continue;
        MetricDelta d;
        d.scenario = scenario;
        d.metric = metric;
        d.current = leaf["mean"].is_number() ? leaf["mean"].get<double>() : std::nan("");
        d.verdict = Verdict::added;
        rows.push_back(std::move(d));
    }
    return rows;
}

void print_deltas(std::ostream& os, const std::vector<MetricDelta>& rows, bool verbose) {
    std::vector<const MetricDelta*> shown;
    for (const auto& d : rows)
        if (verbose || d.verdict != Verdict::ok) shown.push_back(&d);
    if (shown.empty()) return;
    size_t w_scenario = 8, w_metric = 6;
    for (const auto* d : shown) {
        w_scenario = std::max(w_scenario, d->scenario.size());
        w_metric = std::max(w_metric, d->metric.size());
    }
    auto line = [&](const std::string& scenario, const std::string& metric, const std::string& base,
                    const std::string& cur, const std::string& delta, const std::string& tol, const std::string& status) {
        char buf[512];
        std::snprintf(buf, sizeof buf, "%-*s  %-*s  %13s  %13s  %9s  %11s  %s\n", static_cast<int>(w_scenario),
                      scenario.c_str(), static_cast<int>(w_metric), metric.c_str(), base.c_str(), cur.c_str(),
                      delta.c_str(), tol.c_str(), status.c_str());
        os << buf;
    };
    line("scenario", "metric", "baseline", "current", "delta %", "tolerance", "status");
    for (const auto* d : shown) {
        const bool has_base = d->verdict != Verdict::added;
        const bool has_cur = d->verdict != Verdict::missing;
        line(d->scenario, d->metric, has_base ? number(d->baseline) : "-", has_cur ? number(d->current) : "-",
             delta_pct(*d), has_base ? number(d->tolerance) : "-", verdict_text(d->verdict));
    }
}

int run_check(const CheckOptions& options, std::ostream& out, std::ostream& err) {
    try {
        return check_or_update(options, out, err);
    } catch (const InputError& e) {
        err << "pollsim check: " << e.what() << "\n";
        return 2;
    }
}

}  // namespace pollsim
