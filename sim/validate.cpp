#include "sim/validate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

#include "sim/config.h"
#include "sim/error.h"
#include "sim/simulation.h"
#include "sim/source_file.h"
#include <yaml-cpp/yaml.h>
#include "workloads/trace/trace_reader.h"

namespace fs = std::filesystem;

namespace pollsim {

namespace {

constexpr const char* kDefaultProfile = "configs/profiles/x86-tcg.yaml";
constexpr const char* kVersionTable = "configs/validate/qemu-versions.yaml";

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

// The engine's counts of one replication, summed over IOThreads.
LoopFigures figures_of(const ReplicationResult& r) {
    LoopFigures f;
    for (const ContextStats& c : r.contexts) {
        f.requests += c.submitted;
        f.poll_phases += c.poll_phases;
        f.poll_successes += c.poll_successes;
        f.grows += c.policy.grows;
        f.shrinks += c.policy.shrinks;
        f.sum_poll_max_ns += c.sum_poll_max_ns;
        for (int i = 0; i < Pow2Histogram::kBuckets; ++i) f.poll_max_hist[i] += c.poll_max_hist.iterations(i);
    }
    return f;
}

double busy_fraction(const ReplicationResult& r) {
    int64_t busy = 0;
    for (const ContextStats& c : r.contexts) busy += c.busy_ns();
    const int64_t len = r.window.length() * static_cast<int64_t>(r.contexts.size());
    return len > 0 ? static_cast<double>(busy) / static_cast<double>(len) : 0.0;
}

// The smallest recorded handle-to-complete time: a null-aio timer never fires
// early, so it is the latency plus the least the loop can add.
int64_t smallest_recorded_service(const std::string& log) {
    auto reader = open_trace(log, "qemu-log", TraceOptions{});
    TraceRecord r;
    int64_t best = -1;
    while (reader->next(r))
        if (r.has_complete() && (best < 0 || r.complete_ns - r.submit_ns < best)) best = r.complete_ns - r.submit_ns;
    if (best < 0) throw InputError(log + ": no completed request: give the device latency with --latency-ns");
    return best;
}

// A profile path as a config names it: on disk, else the embedded copy.
std::string profile_ref(const std::string& profile) {
    return source_exists(profile) ? fs::absolute(profile).string() : std::string(kEmbeddedPrefix) + profile;
}

// The replay: the log's requests at their recorded times, served in the
// device latency, with time 0 at the first request. `sim_from_ns`,
// `sim_to_ns` are the measurement window on that clock.
Config replay_config(const ValidateRequest& q, const QemuLogScan& scan, int64_t latency_ns, int64_t sim_from_ns,
                     int64_t sim_to_ns) {
    const std::string profile = q.profile.empty() ? kDefaultProfile : q.profile;
    std::ostringstream y;
    y << "policy: " << q.policy << "\n"
      << "iothreads: 1\ndevices: " << std::max(1, scan.devices) << "\nqueues: 1\n"
      << "duration: " << (sim_to_ns - sim_from_ns) << "\nwarmup: " << sim_from_ns << "\n"
      << "seed: 1\nreplications: 1\nthreads: 1\n"
      << "workload: {type: trace, format: qemu-log, replay: open, service: profile}\n";
    std::vector<std::string> sets = {"workload.trace=" + fs::absolute(q.log).string(), "profile=" + profile_ref(profile)};
    for (const char* op : {"read", "write", "randread", "randwrite"})
        sets.push_back(std::string("costs.service.") + op + "=" + std::to_string(latency_ns));
    // The arrivals are the instants the real IOThread took the requests:
    // the guest's kick and the thread's wake-up on it are already behind
    // them, so the replay must not add them again. Timer wake-ups are in no
    // recorded time and keep the profile's (measured) delay.
    const Profile& p = load_config_text(std::string("profile: ") + profile_ref(profile) + "\n", "pollsim validate", ".")
                           .profile;
    sets.push_back("costs.timer_wakeup_latency_ns=" +
                   (p.timer_wakeup_latency_ns ? *p.timer_wakeup_latency_ns : p.wakeup_latency_ns).to_json().dump());
    sets.push_back("costs.wakeup_latency_ns=0");
    sets.push_back("costs.kick_latency_ns=0");
    sets.insert(sets.end(), q.sets.begin(), q.sets.end());
    return load_config_text(y.str(), "pollsim validate", ".", sets, q.iothread);
}

// Mean of each count over the replications (the real log is one run).
LoopFigures simulate(const Config& config, double* cpu, const std::string& sim_log = "") {
    LoopFigures mean;
    double busy = 0;
    for (int rep = 0; rep < config.replications; ++rep) {
        Simulation sim(config, rep);
        std::FILE* log = nullptr;
        if (rep == 0 && !sim_log.empty()) {
            log = std::fopen(sim_log.c_str(), "w");
            if (!log) throw InputError(sim_log + ": cannot write the simulated loop log");
            sim.trace_loops(log);
        }
        const ReplicationResult r = sim.run();
        if (log) std::fclose(log);
        const LoopFigures f = figures_of(r);
        mean.requests += f.requests;
        mean.poll_phases += f.poll_phases;
        mean.poll_successes += f.poll_successes;
        mean.grows += f.grows;
        mean.shrinks += f.shrinks;
        mean.sum_poll_max_ns += f.sum_poll_max_ns;
        for (int i = 0; i < Pow2Histogram::kBuckets; ++i) mean.poll_max_hist[i] += f.poll_max_hist[i];
        busy += busy_fraction(r);
    }
    if (config.replications > 1) {
        const int64_t n = config.replications;
        for (int64_t* v : {&mean.requests, &mean.poll_phases, &mean.poll_successes, &mean.grows, &mean.shrinks,
                           &mean.sum_poll_max_ns})
            *v /= n;
        for (auto& b : mean.poll_max_hist) b /= n;
    }
    if (cpu) *cpu = busy / config.replications;
    return mean;
}

std::optional<double> ratio_of(double sim, double real) {
    if (real == 0) return sim == 0 ? std::optional<double>(1.0) : std::nullopt;
    return sim / real;
}

std::vector<std::pair<std::string, double>> scalars(const LoopFigures& f) {
    std::vector<std::pair<std::string, double>> v = {
        {"requests", static_cast<double>(f.requests)},
        {"poll_phases", static_cast<double>(f.poll_phases)},
        {"poll_successes", static_cast<double>(f.poll_successes)},
        {"grows", static_cast<double>(f.grows)},
        {"shrinks", static_cast<double>(f.shrinks)},
        {"mean_poll_ns", f.mean_poll_ns()},
    };
    if (f.iothread_cpu) v.emplace_back("iothread_cpu", *f.iothread_cpu);
    return v;
}

nlohmann::ordered_json side_json(const LoopFigures& f) {
    nlohmann::ordered_json j;
    for (const auto& [k, v] : scalars(f)) {
        if (k == "mean_poll_ns" || k == "iothread_cpu") j[k] = v;
        else j[k] = static_cast<int64_t>(v);
    }
    auto& h = j["poll_max_ns_histogram"] = nlohmann::ordered_json::array();
    for (int i = 0; i < Pow2Histogram::kBuckets; ++i)
        if (f.poll_max_hist[i]) h.push_back({{"lo_ns", Pow2Histogram::lo(i)}, {"hi_ns", Pow2Histogram::hi(i)}, {"count", f.poll_max_hist[i]}});
    if (!f.iothread_cpu) j.erase("iothread_cpu");
    return j;
}

bool within(const std::optional<double>& ratio, const std::string& key, double tol) {
    if (!ratio) return false;
    if (key == "requests") return *ratio == 1.0;  // the replay submits exactly the log's requests
    return std::fabs(*ratio - 1.0) <= tol;
}

}  // namespace

ValidateResult validate_log(const ValidateRequest& q) {
    if (q.window.from_ns < 0 || q.window.to_ns <= q.window.from_ns)
        throw InputError("--from/--to: need 0 <= from < to");
    if (!(q.tolerance >= 0)) throw InputError("--tolerance must be >= 0");
    ValidateResult r;
    r.request = q;
    r.scan = scan_qemu_log(q.log, q.window);
    r.real = r.scan.figures;
    r.real.iothread_cpu = q.real_cpu;
    if (q.latency_ns) {
        if (*q.latency_ns < 0) throw InputError("--latency-ns must be >= 0");
        r.latency_ns = *q.latency_ns;
        r.latency_source = "given";
    } else {
        r.latency_ns = smallest_recorded_service(q.log);
        r.latency_source = "smallest recorded service time";
    }

    // The log clock and the replay clock differ by where the first request is.
    const int64_t offset = r.scan.first_request_ns - r.scan.first_ns;
    const int64_t log_end = r.scan.last_ns - r.scan.first_ns + 1;
    const int64_t from = std::max<int64_t>(0, q.window.from_ns - offset);
    const int64_t to = std::min(q.window.to_ns, log_end) - offset;
    if (to <= from) throw InputError(q.log + ": the window --from/--to holds no replayed time");
    r.simulated = simulate(replay_config(q, r.scan, r.latency_ns, from, to), nullptr, q.sim_log);
    if (q.real_cpu) {
        // CPU over the span the real figure covers (the fio run), as far as the log goes.
        const int64_t cpu_from_rel = q.cpu_from_log_ns ? *q.cpu_from_log_ns - r.scan.first_ns : q.window.from_ns;
        const int64_t cpu_from = std::max<int64_t>(0, cpu_from_rel - offset);
        if (cpu_from < log_end - offset) {
            double cpu = 0;
            (void)simulate(replay_config(q, r.scan, r.latency_ns, cpu_from, log_end - offset), &cpu);
            r.simulated.iothread_cpu = cpu;
        }
    }
    const auto sim = scalars(r.simulated);
    for (const auto& [key, real] : scalars(r.real)) {
        auto it = std::find_if(sim.begin(), sim.end(), [&](const auto& kv) { return kv.first == key; });
        const std::optional<double> ratio = it == sim.end() ? std::nullopt : ratio_of(it->second, real);
        r.ratios.emplace_back(key, ratio);
        if (!within(ratio, key, q.tolerance)) r.outside.push_back(key);
    }
    return r;
}

nlohmann::ordered_json validate_json(const ValidateResult& r) {
    nlohmann::ordered_json j;
    j["real"] = side_json(r.real);
    j["simulated"] = side_json(r.simulated);
    auto& ratio = j["ratio"] = nlohmann::ordered_json::object();
    for (const auto& [k, v] : r.ratios) ratio[k] = v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
    return j;
}

std::string validate_text(const ValidateResult& r) {
    std::ostringstream o;
    const auto& q = r.request;
    o << "validate " << q.log << "\n"
      << "  policy " << q.policy << " " << q.iothread << ", device latency " << r.latency_ns << " ns ("
      << r.latency_source << "), " << r.scan.devices << " device(s), log " << r.scan.timestamp_format << ", "
      << fmt("%.3f", static_cast<double>(r.scan.last_ns - r.scan.first_ns) / 1e9) << " s\n\n";
    o << "  metric              real      simulated   ratio\n";
    const auto real = scalars(r.real), sim = scalars(r.simulated);
    for (size_t i = 0; i < r.ratios.size(); ++i) {
        const auto& [key, ratio] = r.ratios[i];
        auto it = std::find_if(sim.begin(), sim.end(), [&](const auto& kv) { return kv.first == key; });
        const char* f = key == "iothread_cpu" ? "%10.4f" : (key == "mean_poll_ns" ? "%10.0f" : "%10.0f");
        std::string name = key;
        name.resize(16, ' ');
        o << "  " << name << fmt(f, real[i].second) << "   " << (it == sim.end() ? std::string("         -") : fmt(f, it->second))
          << "   " << (ratio ? fmt("%6.3f", *ratio) : std::string("     -"))
          << (std::find(r.outside.begin(), r.outside.end(), key) != r.outside.end() ? "  outside" : "") << "\n";
    }
    o << "\n  poll max_ns at poll-phase start (power-of-two buckets): real / simulated\n";
    for (int i = 0; i < Pow2Histogram::kBuckets; ++i) {
        if (!r.real.poll_max_hist[i] && !r.simulated.poll_max_hist[i]) continue;
        o << "    [" << Pow2Histogram::lo(i) << ", " << Pow2Histogram::hi(i) << ")  " << r.real.poll_max_hist[i]
          << " / " << r.simulated.poll_max_hist[i] << "\n";
    }
    o << "\n" << (r.pass() ? "  all ratios within " : "  outside ") << fmt("%.0f", q.tolerance * 100) << " %"
      << (r.pass() ? "" : " tolerance: ");
    for (size_t i = 0; i < r.outside.size(); ++i) o << (i ? ", " : "") << r.outside[i];
    o << "\n";
    return o.str();
}

// ---- committed captures ----------------------------------------------------

namespace {

template <typename T>
T sidecar_value(const nlohmann::json& j, const char* key, const std::string& file) {
    if (!j.contains(key)) throw InputError(file + ": key '" + key + "' is missing");
    try {
        return j.at(key).get<T>();
    } catch (const nlohmann::json::exception&) {
        throw InputError(file + ": key '" + key + "' has the wrong type");
    }
}

// "1796026817.111419" (wall seconds, the log's own clock) to ns.
int64_t wall_ns(const std::string& text, const std::string& file, const char* key) {
    size_t used = 0;
    double v = 0;
    try {
        v = std::stod(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || !(v > 0)) throw InputError(file + ": key '" + key + "': expected seconds, got '" + text + "'");
    const size_t dot = text.find('.');
    const int64_t s = std::stoll(text.substr(0, dot));
    std::string frac = dot == std::string::npos ? "" : text.substr(dot + 1);
    frac.resize(9, '0');
    return s * 1'000'000'000 + std::stoll(frac);
}

}  // namespace

// "[a, b]" for the first entry of configs/validate/qemu-versions.yaml whose
// `match` starts `version`; "" if none does.
static std::string mechanisms_for_version(const std::string& version) {
    const SourceText src = read_source(kVersionTable, "validate", /*embedded_fallback=*/true);
    const YAML::Node root = parse_yaml(src.text, src.name);
    for (const auto& entry : root["versions"]) {
        const std::string match = entry["match"].as<std::string>("");
        if (!match.empty() && version.compare(0, match.size(), match) == 0) {
            if (!entry["mechanisms"] || !entry["mechanisms"].IsSequence())
                throw InputError(src.name + ": entry '" + match + "' needs a mechanisms list");
            return yaml_value_text(entry["mechanisms"]);
        }
    }
    return "";
}

std::string sidecar_of(const std::string& log) {
    std::string base = log;
    for (const char* ext : {".xz", ".log"})
        if (base.size() > std::strlen(ext) && base.compare(base.size() - std::strlen(ext), std::string::npos, ext) == 0)
            base.resize(base.size() - std::strlen(ext));
    const std::string side = base + ".json";
    return side != log && fs::is_regular_file(side) ? side : "";
}

bool apply_sidecar(ValidateRequest& q, const std::string& file) {
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(read_source(file, "capture").text);
    } catch (const nlohmann::json::parse_error& err) {
        throw InputError(file + ": malformed JSON: " + err.what());
    }
    if (!j.is_object() || !j.contains("log")) return false;
    if (q.log.empty()) q.log = (fs::path(file).parent_path() / sidecar_value<std::string>(j, "log", file)).string();
    if (q.policy.empty()) q.policy = sidecar_value<std::string>(j, "policy", file);
    if (q.iothread.empty()) q.iothread = sidecar_value<std::string>(j, "iothread", file);
    if (!q.latency_ns) q.latency_ns = sidecar_value<int64_t>(j, "latency_ns", file);
    if (j.contains("qemu_version")) {
        // Before the user's --set, which may override it.
        const std::string mechanisms = mechanisms_for_version(sidecar_value<std::string>(j, "qemu_version", file));
        if (!mechanisms.empty()) q.sets.insert(q.sets.begin(), "mechanisms=" + mechanisms);
    }
    if (!q.real_cpu && j.contains("iothread_cpu") && j.contains("fio_start_wall")) {
        // Measured over the fio run: the simulated figure covers the same
        // span, from fio's start to where the (trimmed) log ends.
        q.real_cpu = sidecar_value<double>(j, "iothread_cpu", file);
        q.cpu_from_log_ns = wall_ns(sidecar_value<std::string>(j, "fio_start_wall", file), file, "fio_start_wall");
    }
    return true;
}

std::vector<Capture> find_captures(const std::string& dir, const std::vector<std::string>& sets,
                                   const std::string& profile, double tolerance) {
    if (!fs::is_directory(dir)) throw InputError(dir + ": not a directory of captures");
    std::vector<Capture> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file() || e.path().extension() != ".json") continue;
        Capture c;
        c.name = e.path().stem().string();
        c.sidecar = e.path().string();
        c.request.profile = profile;
        c.request.sets = sets;
        c.request.tolerance = tolerance;
        if (apply_sidecar(c.request, c.sidecar)) out.push_back(std::move(c));
    }
    std::sort(out.begin(), out.end(), [](const Capture& a, const Capture& b) { return a.name < b.name; });
    if (out.empty()) throw InputError(dir + ": no capture sidecars (NAME.json with a \"log\" key) found");
    return out;
}

const std::vector<std::string>& agreement_keys() {
    static const std::vector<std::string> keys = {"grows", "shrinks", "poll_phases", "mean_poll_ns"};
    return keys;
}

namespace {

std::optional<double> ratio_for(const ValidateResult& r, const std::string& key) {
    for (const auto& [k, v] : r.ratios)
        if (k == key) return v;
    return std::nullopt;
}

bool point_agrees(const ValidateResult& r, const std::string& key, double tol) {
    return within(ratio_for(r, key), key, tol);
}

// Per policy, in order of first appearance: points, and per key the points within tolerance.
struct PolicyAgreement {
    std::string policy;
    int points = 0;
    std::map<std::string, int> agree;
    int all_agree = 0;
};

std::vector<PolicyAgreement> per_policy(const std::vector<AgreementRow>& rows, double tol) {
    std::vector<PolicyAgreement> out;
    for (const auto& row : rows) {
        auto it = std::find_if(out.begin(), out.end(), [&](const PolicyAgreement& p) { return p.policy == row.policy; });
        if (it == out.end()) it = out.insert(out.end(), PolicyAgreement{row.policy, 0, {}, 0});
        ++it->points;
        bool all = point_agrees(row.result, "requests", tol);
        for (const auto& k : agreement_keys()) {
            const bool ok = point_agrees(row.result, k, tol);
            it->agree[k] += ok;
            all = all && ok;
        }
        it->agree["requests"] += point_agrees(row.result, "requests", tol);
        it->all_agree += all;
    }
    return out;
}

std::string ratio_cell(const ValidateResult& r, const std::string& key, double tol) {
    const auto v = ratio_for(r, key);
    if (!v) return "-";
    return fmt("%.2f", *v) + (within(v, key, tol) ? "" : " ✗");
}

}  // namespace

std::string agreement_markdown(const std::vector<AgreementRow>& rows, double tol) {
    std::ostringstream o;
    o << "Ratio simulated / real per capture (✗: outside ±" << fmt("%.0f", tol * 100)
      << " %; requests must match exactly).\n\n"
      << "| capture | requests | poll_phases | poll_successes | grows | shrinks | mean_poll_ns | IOThread CPU real / sim |\n"
      << "|---|---|---|---|---|---|---|---|\n";
    for (const auto& row : rows) {
        const ValidateResult& r = row.result;
        o << "| " << row.name << " | " << ratio_cell(r, "requests", tol) << " | " << ratio_cell(r, "poll_phases", tol)
          << " | " << ratio_cell(r, "poll_successes", tol) << " | " << ratio_cell(r, "grows", tol) << " | "
          << ratio_cell(r, "shrinks", tol) << " | " << ratio_cell(r, "mean_poll_ns", tol) << " | "
          << (r.real.iothread_cpu && r.simulated.iothread_cpu
                  ? fmt("%.3f", *r.real.iothread_cpu) + " / " + fmt("%.3f", *r.simulated.iothread_cpu)
                  : std::string("-"))
          << " |\n";
    }
    o << "\nPoints within tolerance, per policy:\n\n| policy | points | requests exact |";
    for (const auto& k : agreement_keys()) o << " " << k << " |";
    o << " all four and requests |\n|---|---|---|";
    for (size_t i = 0; i < agreement_keys().size(); ++i) o << "---|";
    o << "---|\n";
    for (const auto& p : per_policy(rows, tol)) {
        auto cell = [&](int n) { return std::to_string(n) + "/" + std::to_string(p.points) + " (" + fmt("%.0f", 100.0 * n / p.points) + " %)"; };
        o << "| " << p.policy << " | " << p.points << " | " << cell(p.agree.at("requests")) << " |";
        for (const auto& k : agreement_keys()) o << " " << cell(p.agree.at(k)) << " |";
        o << " " << cell(p.all_agree) << " |\n";
    }
    return o.str();
}

nlohmann::ordered_json agreement_json(const std::vector<AgreementRow>& rows, double tol) {
    nlohmann::ordered_json j;
    j["tolerance"] = tol;
    auto& pts = j["points"] = nlohmann::ordered_json::array();
    for (const auto& row : rows) {
        nlohmann::ordered_json p = validate_json(row.result);
        pts.push_back({{"name", row.name}, {"policy", row.policy}, {"real", p["real"]}, {"simulated", p["simulated"]},
                       {"ratio", p["ratio"]}});
    }
    auto& pol = j["policies"] = nlohmann::ordered_json::object();
    for (const auto& p : per_policy(rows, tol)) {
        auto& e = pol[p.policy];
        e["points"] = p.points;
        for (const auto& [k, n] : p.agree) e["within_tolerance"][k] = n;
        e["all_agree"] = p.all_agree;
    }
    return j;
}

}  // namespace pollsim
