#include "sim/sweep.h"
#include "sim/embedded.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <yaml-cpp/yaml.h>

#include "sim/source_file.h"
#include "sim/error.h"
#include "sim/plot.h"
#include "sim/runner.h"

namespace fs = std::filesystem;

namespace pollsim {

using ojson = nlohmann::ordered_json;

namespace {

class SweepParser {
public:
    SweepParser(std::string name, std::string base_dir) : name_(std::move(name)), base_dir_(std::move(base_dir)) {}

    SweepSpec parse(const std::string& text) {
        const YAML::Node root = parse_yaml(text, name_);
        if (!root.IsMap()) throw InputError(name_ + ": a sweep file must be a map with base, set, vary, zip");
        spec_.file = name_;
        spec_.dir = base_dir_;
        for (const auto& kv : root) {
            const std::string k = kv.first.Scalar();
            if (k == "base") spec_.base_path = read_base_path(kv.second, name_, base_dir_);
            else if (k == "set") read_set(kv.second);
            else if (k == "vary") read_vary(kv.second);
            else if (k == "zip") read_zip(kv.second);
            else if (k == "description") continue;
            else throw InputError(yaml_where(kv.first, name_, k) + ": unknown key; valid keys: base, set, vary, zip, description");
        }
        if (spec_.base_path.empty()) throw InputError(name_ + ": key 'base' is required (the config to start from)");
        check_point_count();
        return spec_;
    }

private:
    void read_set(const YAML::Node& n) {
        if (!n.IsMap()) throw InputError(yaml_where(n, name_, "set") + ": expected a map of key: value");
        for (const auto& kv : n) {
            const std::string key = checked_key(kv.first, "set");
            spec_.sets.emplace_back(key, yaml_value_text(kv.second));
            spec_.set_where.push_back(yaml_where(kv.second, name_, "set." + key));
        }
    }

    void read_vary(const YAML::Node& n) {
        if (!n.IsMap()) throw InputError(yaml_where(n, name_, "vary") + ": expected a map of key: [values]");
        for (const auto& kv : n) {
            const std::string key = checked_key(kv.first, "vary");
            const auto values = list_of(kv.second, "vary." + key);
            SweepAxis axis;
            axis.keys = {key};
            for (const auto& v : values) axis.values.push_back({v});
            for (const auto& v : kv.second) axis.where.push_back({yaml_where(v, name_, "vary." + key)});
            spec_.axes.push_back(std::move(axis));
        }
    }

    void read_zip(const YAML::Node& n) {
        if (!n.IsSequence()) throw InputError(yaml_where(n, name_, "zip") + ": expected a list of groups {key: [values], ...}");
        for (size_t g = 0; g < n.size(); ++g) {
            const YAML::Node group = n[g];
            const std::string where = "zip[" + std::to_string(g) + "]";
            if (!group.IsMap() || group.size() == 0)
                throw InputError(yaml_where(group, name_, where) + ": expected a map of key: [values]");
            SweepAxis axis;
            for (const auto& kv : group) {
                const std::string key = checked_key(kv.first, where);
                const auto values = list_of(kv.second, where + "." + key);
                if (!axis.keys.empty() && values.size() != axis.size())
                    throw InputError(yaml_where(kv.second, name_, where + "." + key) + ": has " +
                                     std::to_string(values.size()) + " values but '" + axis.keys.front() + "' has " +
                                     std::to_string(axis.size()) + "; lists in a zip group move together");
                if (axis.keys.empty()) axis.values.resize(values.size()), axis.where.resize(values.size());
                axis.keys.push_back(key);
                for (size_t i = 0; i < values.size(); ++i) {
                    axis.values[i].push_back(values[i]);
                    axis.where[i].push_back(yaml_where(kv.second[i], name_, where + "." + key));
                }
            }
            spec_.axes.push_back(std::move(axis));
        }
    }

    // The product of the axes' sizes, counted without overflow, must not
    // exceed kMaxSweepPoints.
    void check_point_count() const {
        uint64_t n = 1;
        bool overflow = false;
        std::string sizes;
        for (const auto& a : spec_.axes) {
            sizes += (sizes.empty() ? "" : " x ") + std::to_string(a.size());
            if (!overflow && __builtin_mul_overflow(n, static_cast<uint64_t>(a.size()), &n)) overflow = true;
        }
        if (!overflow && n <= kMaxSweepPoints) return;
        const std::string count = overflow ? "more than 18446744073709551615" : std::to_string(n);
        throw InputError(name_ + ": the sweep has " + count + " points (" + sizes + "); at most " +
                         std::to_string(kMaxSweepPoints) + " are allowed: split it into several sweeps");
    }

    // A key must be one `pollsim list keys` knows, and be given once.
    std::string checked_key(const YAML::Node& key_node, const std::string& section) {
        const std::string key = checked_config_key(key_node, name_, section);
        if (!seen_.insert(key).second)
            throw InputError(yaml_where(key_node, name_, section + "." + key) + ": key given twice in this sweep");
        return key;
    }

    std::vector<std::string> list_of(const YAML::Node& n, const std::string& key) {
        if (!n.IsSequence()) throw InputError(yaml_where(n, name_, key) + ": expected a list of values");
        if (n.size() == 0) throw InputError(yaml_where(n, name_, key) + ": empty list (a sweep needs at least one value)");
        std::vector<std::string> out;
        for (const auto& v : n) out.push_back(yaml_value_text(v));
        return out;
    }

    std::string name_, base_dir_;
    SweepSpec spec_;
    std::set<std::string> seen_;
};

std::string describe(const Assignment& a) {
    std::string s;
    for (const auto& [k, v] : a) s += (s.empty() ? "" : ", ") + k + "=" + v;
    return s;
}

uint64_t fnv1a64(const std::string& text) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

std::string point_file(const std::string& cache_dir, const std::string& key) {
    return (fs::path(cache_dir) / (key + ".json")).string();
}

// A cached point is used only if it parses and carries the expected key;
// anything else (a file from another version, a stray edit) is run again.
bool load_cached(const std::string& path, const std::string& key, ojson& report) {
    std::ifstream in(path);
    if (!in) return false;
    try {
        ojson j = ojson::parse(in);
        if (j.value("key", "") != key || !j.contains("report")) return false;
        report = std::move(j["report"]);
        return true;
    } catch (const nlohmann::json::exception&) {
        return false;
    }
}

std::string csv_field(const std::string& s) {
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

// "4" -> 4, "0.5" -> 0.5, anything else stays text.
ojson typed_value(const std::string& s) {
    if (s.empty()) return s;
    char* end = nullptr;
    const long long i = std::strtoll(s.c_str(), &end, 10);
    if (*end == '\0') return i;
    const double d = std::strtod(s.c_str(), &end);
    if (*end == '\0' && std::isfinite(d)) return d;
    return s;
}

std::string clock_text(double s) {
    if (s < 0) return "?";
    const auto total = static_cast<long long>(std::llround(s));
    char buf[32];
    std::snprintf(buf, sizeof buf, "%lld:%02lld", total / 60, total % 60);
    return buf;
}

}  // namespace

std::string SweepSpec::assignment(const std::string& key, const std::string& value) const {
    return file_assignment(key, value, dir);
}

std::vector<std::string> SweepSpec::varied_keys() const {
    std::vector<std::string> keys;
    for (const auto& a : axes) keys.insert(keys.end(), a.keys.begin(), a.keys.end());
    return keys;
}

size_t SweepSpec::point_count() const {
    size_t n = 1;
    for (const auto& a : axes) n *= a.size();
    return n;
}

SweepSpec parse_sweep(const std::string& text, const std::string& name, const std::string& base_dir) {
    return SweepParser(name, base_dir).parse(text);
}

SweepSpec load_sweep(const std::string& path) {
    // Off disk, the binary's embedded configs/**.yaml serve (use outside a checkout).
    const SourceText src = read_source(path, "sweep", true);
    return parse_sweep(src.text, src.name, src.dir);
}

std::vector<Assignment> expand(const SweepSpec& spec) {
    std::vector<Assignment> out;
    std::vector<size_t> pos(spec.axes.size(), 0);
    for (size_t n = 0; n < spec.point_count(); ++n) {
        Assignment a;
        for (size_t x = 0; x < spec.axes.size(); ++x)
            for (size_t k = 0; k < spec.axes[x].keys.size(); ++k)
                a.emplace_back(spec.axes[x].keys[k], spec.axes[x].values[pos[x]][k]);
        out.push_back(std::move(a));
        // Odometer: the last axis turns fastest.
        for (size_t x = spec.axes.size(); x-- > 0;) {
            if (++pos[x] < spec.axes[x].size()) break;
            pos[x] = 0;
        }
    }
    return out;
}

namespace {

// (key, "FILE:LINE:COL: key ...") of every value point n takes from the axes.
std::vector<std::pair<std::string, std::string>> vary_where(const SweepSpec& spec, size_t n) {
    std::vector<std::pair<std::string, std::string>> out;
    for (size_t x = spec.axes.size(); x-- > 0;) {
        const SweepAxis& axis = spec.axes[x];
        const size_t i = n % axis.size();
        n /= axis.size();
        if (i < axis.where.size())
            for (size_t k = 0; k < axis.keys.size() && k < axis.where[i].size(); ++k)
                out.emplace_back(axis.keys[k], axis.where[i][k]);
    }
    return out;
}

// For "--set: key 'K': WHAT" where K's value came from the sweep file (a
// vary/zip value, else a set value not overridden by --set): "WHERE: WHAT".
std::string sweep_value_where(const SweepSpec& spec, const std::vector<std::string>& extra_sets,
                              const std::vector<std::pair<std::string, std::string>>& vary, const std::string& msg) {
    const std::string head = "--set: key '";
    if (msg.rfind(head, 0) != 0) return "";
    const size_t end = msg.find("'", head.size());
    if (end == std::string::npos) return "";
    const std::string key = msg.substr(head.size(), end - head.size());
    const std::string rest = msg.substr(end + 1);  // ": WHAT"
    auto with = [&](const std::string& where) {
        // where ends "key 'vary.K'" (or a dotted path under it): keep it whole.
        return where + rest;
    };
    for (const auto& [k, w] : vary)
        if (k == key || key.rfind(k + ".", 0) == 0) return with(w);
    for (const auto& s : extra_sets)
        if (s.rfind(key + "=", 0) == 0) return "";
    for (size_t i = spec.sets.size(); i-- > 0;)
        if (i < spec.set_where.size() && (spec.sets[i].first == key || key.rfind(spec.sets[i].first + ".", 0) == 0))
            return with(spec.set_where[i]);
    return "";
}

}  // namespace

std::vector<SweepPoint> resolve_points(const SweepSpec& spec, const std::vector<std::string>& extra_sets) {
    std::vector<SweepPoint> points;
    for (auto& vary : expand(spec)) {
        std::vector<std::string> sets;
        for (const auto& [k, v] : spec.sets) sets.push_back(spec.assignment(k, v));
        sets.insert(sets.end(), extra_sets.begin(), extra_sets.end());
        for (const auto& [k, v] : vary) sets.push_back(spec.assignment(k, v));
        SweepPoint p;
        try {
            p.config = load_config(spec.base_path, sets);
        } catch (const InputError& e) {
            // A value of this sweep file named as "--set": name its line.
            const std::string msg = e.what();
            if (const std::string at = sweep_value_where(spec, extra_sets, vary_where(spec, points.size()), msg);
                !at.empty())
                throw InputError(at + " (point " + std::to_string(points.size() + 1) +
                                 (vary.empty() ? "" : ": " + describe(vary)) + ")");
            throw InputError(spec.file + ": point " + std::to_string(points.size() + 1) + " (" + describe(vary) +
                             "): " + msg);
        }
        // Points are the unit of parallelism; one thread per point keeps the
        // machine busy without oversubscribing it.
        p.config.threads = 1;
        p.index = points.size();
        p.key = point_key(p.config);
        p.vary = std::move(vary);
        p.sets = std::move(sets);
        points.push_back(std::move(p));
    }
    return points;
}

std::string config_fingerprint(const Config& config, const std::string& prefix) {
    ojson j = config_to_json(config);
    j.erase("source");
    j.erase("profile_path");
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a64(prefix + j.dump())));
    return buf;
}

std::string point_key(const Config& config) {
    return config_fingerprint(config, std::string(POLLSIM_VERSION) + "\n" + model_id() + "\n");
}

std::string read_base_path(const YAML::Node& n, const std::string& file, const std::string& dir) {
    if (!n.IsScalar() || n.Scalar().empty()) throw InputError(yaml_where(n, file, "base") + ": expected a config path");
    std::string path = resolve_beside(dir, n.Scalar());
    if (!source_exists(path)) throw InputError(yaml_where(n, file, "base") + ": cannot read '" + path + "'");
    return path;
}

SweepResult run_points(std::vector<SweepPoint> points, std::vector<std::string> columns, const SweepOptions& options) {
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(); };
    SweepResult result;
    result.columns = std::move(columns);
    result.points = std::move(points);
    const int total = static_cast<int>(result.points.size());
    result.reports.resize(total);

    // Identical points (e.g. a baseline repeated across a zip) run once.
    std::vector<int> pending, duplicate_of(total, -1);
    std::map<std::string, int> first_with_key;
    for (int i = 0; i < total; ++i) {
        const SweepPoint& p = result.points[i];
        auto [it, fresh] = first_with_key.try_emplace(p.key, i);
        if (!fresh) duplicate_of[i] = it->second;
        else if (!options.cache_dir.empty() && load_cached(point_file(options.cache_dir, p.key), p.key, result.reports[i]))
            ++result.cached;
        else pending.push_back(i);
    }

    std::mutex mutex;
    SweepProgress progress{total - static_cast<int>(pending.size()), total, result.cached, 0, -1};
    if (options.progress) options.progress(progress);
    parallel_for(static_cast<int>(pending.size()), options.threads, [&](int j) {
        const int i = pending[j];
        const SweepPoint& p = result.points[i];
        ojson report = run_config(p.config).report;
        report["run"].erase("wall_s");  // the only field that differs between identical runs
        if (!options.cache_dir.empty()) {
            ojson file;
            file["key"] = p.key;
            file["pollsim_version"] = POLLSIM_VERSION;
            file["report"] = report;
            write_file_atomic(point_file(options.cache_dir, p.key), file.dump() + "\n", MissingDirs::create);
        }
        std::lock_guard<std::mutex> lock(mutex);
        result.reports[i] = std::move(report);
        ++result.ran;
        ++progress.done;
        progress.elapsed_s = elapsed();
        progress.eta_s = progress.elapsed_s / result.ran * static_cast<double>(total - progress.done);
        if (options.progress) options.progress(progress);
    });
    for (int i = 0; i < total; ++i)
        if (duplicate_of[i] >= 0) result.reports[i] = result.reports[duplicate_of[i]];
    result.wall_s = elapsed();
    return result;
}

PooledResult run_pooled(std::vector<std::vector<SweepPoint>> groups, const SweepOptions& options) {
    std::vector<SweepPoint> all;
    for (auto& g : groups) std::move(g.begin(), g.end(), std::back_inserter(all));
    SweepResult pooled = run_points(std::move(all), {}, options);

    PooledResult out;
    out.ran = pooled.ran;
    out.cached = pooled.cached;
    size_t offset = 0;
    for (const auto& g : groups) {
        SweepResult part;
        for (size_t i = offset; i < offset + g.size(); ++i) {
            part.points.push_back(std::move(pooled.points[i]));
            part.reports.push_back(std::move(pooled.reports[i]));
        }
        offset += g.size();
        out.parts.push_back(std::move(part));
    }
    return out;
}

const std::vector<std::string>& csv_metrics() {
    static const std::vector<std::string> metrics = {"iops",           "cpu.iothread_util", "latency_ns.p99",
                                                     "poll.mean_poll_ns", "poll.reset_rate", "poll.time_near_max"};
    return metrics;
}

const ojson& metric_leaf(const ojson& report, const std::string& path) {
    const ojson* node = &report.at("metrics");
    std::stringstream ss(path);
    for (std::string part; std::getline(ss, part, '.');) {
        if (!node->contains(part)) throw InputError("report has no metric '" + path + "'");
        node = &(*node)[part];
    }
    return *node;
}

std::string format_number(double v, int significant) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", significant, v);
    return std::strcmp(buf, "-0") == 0 ? "0" : buf;
}

namespace {

bool has_metric(const ojson& report, const std::string& path) {
    try {
        metric_leaf(report, path);
        return true;
    } catch (const InputError&) {
        return false;
    }
}

// Open-loop sweeps also get the cost columns (every point has them), so
// closed-loop results keep their columns.
std::vector<std::string> csv_metrics_of(const SweepResult& result) {
    std::vector<std::string> metrics = csv_metrics();
    for (const char* m : {"cost.total", "cost.ratio_to_oracle"}) {
        const bool all = !result.reports.empty() &&
                         std::all_of(result.reports.begin(), result.reports.end(),
                                     [&](const ojson& r) { return has_metric(r, m); });
        if (all) metrics.push_back(m);
    }
    return metrics;
}

}  // namespace

std::string results_csv(const SweepResult& result) {
    std::string out;
    const std::vector<std::string> metrics = csv_metrics_of(result);
    for (const auto& c : result.columns) out += csv_field(c) + ",";
    for (const auto& m : metrics) out += m + ".mean," + m + ".ci95,";
    out.back() = '\n';
    for (size_t i = 0; i < result.points.size(); ++i) {
        for (const auto& [k, v] : result.points[i].vary) out += csv_field(v) + ",";
        for (const auto& m : metrics) {
            const ojson& leaf = metric_leaf(result.reports[i], m);
            out += format_number(leaf["mean"].get<double>()) + "," + format_number(leaf["ci95"].get<double>()) + ",";
        }
        out.back() = '\n';
    }
    return out;
}

ojson results_json(const SweepResult& result, const std::string& sweep_file) {
    ojson j;
    j["sweep"] = sweep_file;
    j["pollsim_version"] = POLLSIM_VERSION;
    j["columns"] = result.columns;
    j["points"] = ojson::array();
    for (size_t i = 0; i < result.points.size(); ++i) {
        ojson vary = ojson::object();
        for (const auto& [k, v] : result.points[i].vary) vary[k] = typed_value(v);
        j["points"].push_back({{"key", result.points[i].key}, {"vary", vary}, {"report", result.reports[i]}});
    }
    return j;
}

void write_results(const SweepResult& result, const std::string& sweep_file, const std::string& dir) {
    write_file_atomic((fs::path(dir) / "results.csv").string(), results_csv(result), MissingDirs::create);
    write_file_atomic((fs::path(dir) / "results.json").string(), results_json(result, sweep_file).dump(1) + "\n",
                      MissingDirs::create);
}

std::string Shard::name() const { return std::to_string(index) + "/" + std::to_string(count); }

std::string Shard::manifest_file() const {
    return "shard-" + std::to_string(index) + "-of-" + std::to_string(count) + ".json";
}

Shard parse_shard(const std::string& text) {
    const std::string usage = "--shard '" + text + "': expected I/N with 0 <= I < N and N >= 1 (e.g. 0/4)";
    const size_t slash = text.find('/');
    if (slash == std::string::npos) throw InputError(usage);
    auto number = [&](const std::string& s) {
        if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos || s.size() > 9) throw InputError(usage);
        return static_cast<size_t>(std::stoul(s));
    };
    Shard shard{number(text.substr(0, slash)), number(text.substr(slash + 1))};
    if (shard.count < 1 || shard.index >= shard.count) throw InputError(usage);
    return shard;
}

std::vector<SweepPoint> shard_points(std::vector<SweepPoint> points, const Shard& shard) {
    std::erase_if(points, [&](const SweepPoint& p) { return !shard.has(p); });
    return points;
}

void write_shard_manifest(const SweepResult& result, const Shard& shard, const std::string& sweep_file,
                          const std::string& dir) {
    ojson j;
    j["sweep"] = sweep_file;
    j["pollsim_version"] = POLLSIM_VERSION;
    j["shard"] = shard.name();
    j["points"] = ojson::array();
    for (const auto& p : result.points)
        j["points"].push_back({{"index", p.index}, {"key", p.key}, {"vary", describe(p.vary)}});
    write_file_atomic((fs::path(dir) / shard.manifest_file()).string(), j.dump(1) + "\n", MissingDirs::create);
}

namespace {

std::vector<fs::path> sorted_entries(const std::string& dir) {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path());
    std::sort(out.begin(), out.end());
    return out;
}

// What the shard manifests in `dirs` say: the shard count they agree on
// (0: none found), which shards finished, and which ran something else. A
// manifest from another pollsim version, another split or another resolved
// configuration is a problem of its own: its points can never match, and
// "missing" alone would hide why.
struct ManifestScan {
    size_t count = 0;
    std::set<size_t> finished, mismatched;
};

ManifestScan scan_manifests(const std::vector<SweepPoint>& points, const std::vector<std::string>& dirs,
                            std::vector<std::string>& problems) {
    ManifestScan scan;
    for (const auto& dir : dirs)
        for (const auto& path : sorted_entries(dir)) {
            Shard shard;
            if (std::sscanf(path.filename().c_str(), "shard-%zu-of-%zu", &shard.index, &shard.count) != 2 ||
                path.filename() != shard.manifest_file())
                continue;
            const std::string file = path.string();
            ojson m;
            try {
                m = ojson::parse(std::ifstream(path));
            } catch (const nlohmann::json::exception& e) {
                problems.push_back(file + ": unreadable shard manifest (" + e.what() + ")");
                continue;
            }
            const std::string version = m.value("pollsim_version", "?");
            if (version != POLLSIM_VERSION) {
                problems.push_back(file + ": written by pollsim " + version + ", this is " POLLSIM_VERSION +
                                   "; run the shards and the merge with one version");
                scan.mismatched.insert(shard.index);
                continue;
            }
            if (scan.count != 0 && shard.count != scan.count) {
                problems.push_back(file + ": a split into " + std::to_string(shard.count) + " shards, others are into " +
                                   std::to_string(scan.count) + "; merge the shards of one split");
                continue;
            }
            scan.count = shard.count;
            bool same = true;
            for (const auto& p : m.value("points", ojson::array())) {
                const size_t at = p.value("index", points.size());
                const std::string key = p.value("key", "");
                if (at >= points.size() || points[at].key != key) {
                    problems.push_back(file + ": point " + std::to_string(at) + " has key " + key + " there but " +
                                       (at < points.size() ? points[at].key : "no such point") +
                                       " here; merge with the sweep file and --set the shards ran with");
                    same = false;
                    break;
                }
            }
            (same ? scan.finished : scan.mismatched).insert(shard.index);
        }
    return scan;
}

std::string missing_point(const SweepPoint& p, const ManifestScan& scan) {
    std::string s = "point " + std::to_string(p.index) + " (" + describe(p.vary) + ") missing: no points/" + p.key +
                    ".json in any directory";
    if (scan.count == 0) return s + " (no shard manifest found, so no shard to name)";
    const Shard shard{p.index % scan.count, scan.count};
    s += "; shard " + shard.name() + " should have produced it";
    if (scan.finished.count(shard.index)) return s + ", and its manifest says it finished (point file removed?)";
    if (scan.mismatched.count(shard.index)) return s + ", but it ran another configuration (see its manifest above)";
    return s + ", and it did not finish";
}

}  // namespace

SweepResult merge_shards(std::vector<SweepPoint> points, std::vector<std::string> columns,
                         const std::vector<std::string>& dirs) {
    for (const auto& dir : dirs)
        if (!fs::is_directory(dir)) throw InputError(dir + ": no such shard directory");
    std::vector<std::string> problems;
    const ManifestScan scan = scan_manifests(points, dirs, problems);

    SweepResult result;
    result.columns = std::move(columns);
    result.points = std::move(points);
    result.reports.resize(result.points.size());
    std::map<std::string, size_t> first_with_key;  // a point repeated in the sweep is one file
    size_t missing = 0;
    for (size_t i = 0; i < result.points.size(); ++i) {
        const SweepPoint& p = result.points[i];
        if (auto it = first_with_key.find(p.key); it != first_with_key.end()) {
            result.reports[i] = result.reports[it->second];
            continue;
        }
        first_with_key.emplace(p.key, i);
        // Every copy must agree: two shards that ran one configuration with
        // one version and got different reports point at a broken build.
        std::string first_file;
        for (const auto& dir : dirs) {
            const std::string file = point_file((fs::path(dir) / "points").string(), p.key);
            if (!fs::exists(file)) continue;
            ojson report;
            if (!load_cached(file, p.key, report)) {
                problems.push_back(file + ": not a readable point file for key " + p.key);
            } else if (first_file.empty()) {
                first_file = file;
                result.reports[i] = std::move(report);
            } else if (report != result.reports[i]) {
                problems.push_back("point " + std::to_string(p.index) + " (" + describe(p.vary) +
                                   "): conflicting results in " + first_file + " and " + file);
            }
        }
        if (first_file.empty()) {
            ++missing;
            problems.push_back(missing_point(p, scan));
        }
    }
    if (problems.empty()) return result;

    // A lost shard first, by name: with many points, its point lines may be cut.
    std::vector<std::string> lost;
    for (size_t s = 0; s < scan.count; ++s) {
        const Shard shard{s, scan.count};
        if (scan.finished.count(s) || scan.mismatched.count(s)) continue;
        size_t of = 0, gone = 0;
        for (size_t i = 0; i < result.points.size(); ++i) {
            if (!shard.has(result.points[i])) continue;
            ++of;
            if (result.reports[i].is_null()) ++gone;
        }
        if (gone)
            lost.push_back("shard " + shard.name() + " lost or unfinished: no " + shard.manifest_file() +
                           " in any directory, " + std::to_string(gone) + " of its " + std::to_string(of) +
                           " points missing");
    }
    problems.insert(problems.begin(), lost.begin(), lost.end());

    constexpr size_t kMaxLines = 40;
    std::string msg = "merge: " + std::to_string(missing) + " of " + std::to_string(result.points.size()) +
                      " points missing; " + std::to_string(problems.size()) + " problems:";
    for (size_t k = 0; k < problems.size() && k < kMaxLines; ++k) msg += "\n  " + problems[k];
    if (problems.size() > kMaxLines) msg += "\n  ... and " + std::to_string(problems.size() - kMaxLines) + " more";
    throw InputError(msg);
}

namespace {
// "randread/4" for a point: the varied values, which the column names explain.
std::string short_label(const Assignment& a) {
    std::string s;
    for (const auto& [k, v] : a) s += (s.empty() ? "" : "/") + v;
    return s;
}
}  // namespace

std::vector<std::string> write_sweep_plots(const SweepResult& result, const std::string& dir) {
    std::string columns;
    for (const auto& c : result.columns) columns += (columns.empty() ? "" : "/") + c;
    PlotChart tradeoff;
    tradeoff.title = "IOThread CPU against throughput";
    tradeoff.subtitle = "labels: " + columns;
    tradeoff.x_label = "throughput (kIOPS)";
    tradeoff.y_label = "IOThread CPU (% of one CPU, summed over IOThreads)";
    PlotSeries points;
    points.name = "sweep point";
    points.line = false;
    for (size_t i = 0; i < result.points.size(); ++i) {
        points.x.push_back(metric_leaf(result.reports[i], "iops")["mean"].get<double>() / 1e3);
        points.y.push_back(100 * metric_leaf(result.reports[i], "cpu.iothread_util")["mean"].get<double>());
        points.labels.push_back(short_label(result.points[i].vary));
    }
    tradeoff.series.push_back(std::move(points));

    constexpr size_t kMaxHistograms = 10;
    std::vector<std::pair<std::string, const ojson*>> named;
    for (size_t i = 0; i < result.points.size() && i < kMaxHistograms; ++i)
        named.emplace_back(short_label(result.points[i].vary), &result.reports[i]);
    const std::string title =
        std::string("poll.ns histogram per point") + (result.points.size() > kMaxHistograms ? " (first 10)" : "");
    std::vector<std::string> files = {(fs::path(dir) / "tradeoff.svg").string(),
                                            (fs::path(dir) / "poll-histogram.svg").string()};
    write_file_atomic(files[0], render_svg(tradeoff), MissingDirs::create);
    PlotChart histogram = poll_histogram_chart(title, named);
    histogram.subtitle = "legend: " + columns;
    write_file_atomic(files[1], render_svg(histogram), MissingDirs::create);
    if (csv_metrics_of(result).back() != "cost.ratio_to_oracle") return files;

    // Open loop: each point's cost over the oracle's on the same arrivals.
    PlotChart ratio;
    ratio.title = "cost.total over the oracle's (1 = the offline optimum)";
    ratio.subtitle = "points: " + columns;
    ratio.x_label = "sweep point";
    ratio.y_label = "ratio to oracle (mean over replications)";
    PlotSeries ratios;
    ratios.name = "ratio to oracle";
    ratios.line = false;
    for (size_t i = 0; i < result.points.size(); ++i) {
        ratio.x_categories.push_back(short_label(result.points[i].vary));
        ratios.x.push_back(static_cast<double>(i));
        ratios.y.push_back(metric_leaf(result.reports[i], "cost.ratio_to_oracle")["mean"].get<double>());
    }
    ratio.series.push_back(std::move(ratios));
    files.push_back((fs::path(dir) / "ratio-to-oracle.svg").string());
    write_file_atomic(files.back(), render_svg(ratio), MissingDirs::create);
    return files;
}

std::function<void(const SweepProgress&)> stderr_progress(const std::string& label, bool tty) {
    struct State {
        double last_line_s = -1e9;
    };
    auto state = std::make_shared<State>();
    return [label, tty, state](const SweepProgress& p) {
        const std::string counts = std::to_string(p.done) + "/" + std::to_string(p.total) + " points" +
                                   (p.cached ? " (" + std::to_string(p.cached) + " cached)" : "");
        const std::string times = clock_text(p.elapsed_s) + " elapsed, ETA " + clock_text(p.done == p.total ? 0 : p.eta_s);
        if (tty) {
            constexpr int kWidth = 30;
            const int filled = p.total ? kWidth * p.done / p.total : kWidth;
            std::cerr << "\r" << label << " [" << std::string(filled, '#') << std::string(kWidth - filled, '.') << "] "
                      << counts << ", " << times << "\033[K" << (p.done == p.total ? "\n" : "") << std::flush;
            return;
        }
        // Logs get a line every few seconds, not one per point.
        if (p.done != p.total && p.elapsed_s - state->last_line_s < 5.0 && p.done != p.cached) return;
        state->last_line_s = p.elapsed_s;
        std::cerr << label << ": " << counts << ", " << times << "\n";
    };
}

}  // namespace pollsim
