#include "sim/config.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "sim/error.h"
#include "sim/source_file.h"
#include "sim/yaml_reader.h"

namespace pollsim {

namespace {

// Relative paths in a file resolve beside that file; paths given with --set
// (no position in any file) resolve against the working directory.
std::string resolve_path(const YAML::Node& node, const std::string& value, const std::string& base_dir) {
    if (node.Mark().is_null()) return value;
    return resolve_beside(base_dir, value);
}

void merge_into(YAML::Node target, const YAML::Node& overrides) {
    for (const auto& kv : overrides) {
        const std::string k = kv.first.Scalar();
        if (kv.second.IsMap() && target[k] && target[k].IsMap()) merge_into(target[k], kv.second);
        else target[k] = kv.second;
    }
}

void read_workload(MapReader r, WorkloadConfig& w, const std::string& base_dir) {
    r.read_choice("type", w.type, [] {
        std::vector<std::string> names;
        for (const auto& o : workload_table()) names.emplace_back(o.name);
        return names;
    }());
    r.read_choice("rw", w.rw, {"read", "write", "randread", "randwrite"});
    r.read("bs", w.bs, 512, int64_t{1} << 30);
    r.read("numjobs", w.numjobs, 1, 4096);
    r.read("iodepth", w.iodepth, 1, 65536);
    r.read_dist("think", w.think);
    r.read_choice("spread", w.spread, {"separate", "all"});
    r.read("rate_iops", w.rate_iops, 1e-3, 1e9);
    r.read_dist("on_ns", w.on_ns);
    r.read_dist("off_ns", w.off_ns);
    r.read("trace", w.trace);
    if (!w.trace.empty() && r.has("trace")) w.trace = resolve_path(r.node("trace"), w.trace, base_dir);
    r.read_choice("format", w.format, {"auto", "csv", "jsonl", "blkparse", "fio-iolog", "fio-lat", "qemu-log"});
    r.read_choice("replay", w.replay, {"open", "closed"});
    r.read("speed", w.speed, 1e-6, 1e6);
    r.read("loop", w.loop);
    r.read("skip_bad", w.skip_bad);
    r.read("reorder_window", w.reorder_window, 1, 1 << 24);
    r.read_choice("service", w.service, {"recorded", "profile", "profile-recorded-wake"});
    r.finish();
}

Profile load_profile(const std::string& path, const YAML::Node& overrides, const std::string& config_name) {
    YAML::Node node = parse_yaml(read_source(path, config_name + ": key 'profile'").text, path);
    if (!node.IsMap()) throw InputError(path + ": a profile must be a map of costs");
    if (overrides && !overrides.IsNull()) {
        if (!overrides.IsMap()) throw InputError(yaml_where(overrides, config_name, "costs") + ": expected a map");
        // Check override keys here, where their position is still the
        // config's, so an unknown cost is reported against the config line.
        const auto keys = profile_keys();
        for (const auto& kv : overrides) {
            const std::string k = kv.first.Scalar();
            const bool ok = std::find(keys.begin(), keys.end(), k) != keys.end() ||
                            (k == "service" && kv.second.IsMap());
            if (!ok) {
                std::string list;
                for (const auto& v : keys) list += (list.empty() ? "" : ", ") + v;
                throw InputError(yaml_where(kv.first, config_name, "costs." + k) + ": unknown cost; valid: " + list);
            }
        }
        (void)profile_from_yaml(node, path);  // the profile must be valid on its own
        merge_into(node, YAML::Clone(overrides));
        try {
            return profile_from_yaml(node, path);
        } catch (const InputError& e) {
            throw InputError(std::string(e.what()) + " (after applying 'costs' from " + config_name + ")");
        }
    }
    return profile_from_yaml(node, path);
}

// Never `a = b` on a YAML::Node that came from a map: yaml-cpp would rebind
// the map entry, not copy. Each level takes node[part] afresh.
void set_path(YAML::Node node, const std::vector<std::string>& parts, size_t i, const YAML::Node& value) {
    if (i + 1 == parts.size()) {
        node[parts[i]] = value;
        return;
    }
    if (!node[parts[i]] || !node[parts[i]].IsMap()) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
    set_path(node[parts[i]], parts, i + 1, value);
}

// A copy with no source positions (YAML::Clone keeps them), so that an error
// in a list or map given with --set is reported as --set's, not the file's.
YAML::Node without_marks(const YAML::Node& n) {
    switch (n.Type()) {
    case YAML::NodeType::Scalar: return YAML::Node(n.Scalar());
    case YAML::NodeType::Sequence: {
        YAML::Node out(YAML::NodeType::Sequence);
        for (const auto& item : n) out.push_back(without_marks(item));
        return out;
    }
    case YAML::NodeType::Map: {
        YAML::Node out(YAML::NodeType::Map);
        for (const auto& kv : n) out[kv.first.Scalar()] = without_marks(kv.second);
        return out;
    }
    case YAML::NodeType::Null: return YAML::Node(YAML::NodeType::Null);
    default: return YAML::Node();
    }
}

bool is_config_key(const std::string& key) {
    static const std::vector<std::string> valid = valid_config_keys();
    return std::find(valid.begin(), valid.end(), key) != valid.end();
}

// fio keeps numjobs x iodepth requests in flight; those of the jobs sharing a
// virtqueue must fit in it (Simulation refuses no closed-loop request, it
// would wait in the guest, which a fio job never does).
void check_fio_fits(const Config& c, const MapReader& r, const YAML::Node& root) {
    const WorkloadConfig& w = c.workload;
    if (w.type != "fio") return;
    // separate: job j on device j mod devices, queue (j / devices) mod queues;
    // all: any device, queue j mod queues.
    const int64_t vqs = w.spread == "all" ? c.queues : int64_t{c.devices} * c.queues;
    const int64_t jobs = (w.numjobs + vqs - 1) / vqs;
    const int64_t need = jobs * w.iodepth;
    if (need <= c.queue_size) return;
    // Blame the key that was given: iodepth, numjobs, else queue_size.
    // (Each node is taken afresh: `=` on a map's node rebinds the entry.)
    const YAML::Node wl = root["workload"];
    const char* given = wl && wl.IsMap() ? (wl["iodepth"] ? "iodepth" : wl["numjobs"] ? "numjobs" : nullptr) : nullptr;
    const std::string where = given ? yaml_where(wl[given], r.file(), std::string("workload.") + given)
                              : root["queue_size"] ? yaml_where(root["queue_size"], r.file(), "queue_size")
                                                   : yaml_where(wl ? wl : root, r.file(), "workload");
    throw InputError(where + ": " + std::to_string(jobs) + " fio job" +
                     (jobs == 1 ? "" : "s") + " x iodepth " + std::to_string(w.iodepth) + " = " +
                     std::to_string(need) + " requests in flight on one virtqueue, more than queue_size " +
                     std::to_string(c.queue_size) + " (numjobs " + std::to_string(w.numjobs) + " over " +
                     std::to_string(vqs) + " virtqueue" + (vqs == 1 ? "" : "s") +
                     "): lower numjobs or iodepth, or raise queue_size or devices/queues");
}

// A clairvoyant policy (the oracle) needs arrivals fixed in advance, and the
// engine tells it only one IOThread's future: name the key that stops it.
void check_foreseeable(const Config& c, const MapReader& r, const YAML::Node& root) {
    const YAML::Node wl = root["workload"];
    const auto at = [&](const char* key) {
        const bool given = wl && wl.IsMap() && wl[key];
        return given ? yaml_where(wl[key], r.file(), std::string("workload.") + key)
                     : yaml_where(root["policy"] ? root["policy"] : root, r.file(), std::string("workload.") + key);
    };
    const std::string needs = ": policy '" + c.policy + "' is an offline optimum over open-loop arrivals";
    if (!is_open_loop(c.workload)) {
        const bool replay = c.workload.type == "trace";
        throw InputError(at(replay ? "replay" : "type") + needs + ", and " +
                         (replay ? "workload.replay 'closed'" : "workload.type '" + c.workload.type + "'") +
                         " is closed loop (submissions wait for completions, so they depend on the policy): "
                         "use workload.type poisson, onoff, or trace with workload.replay: open");
    }
    if (c.iothreads != 1)
        throw InputError(yaml_where(root["iothreads"], r.file(), "iothreads") + needs +
                         " on one IOThread; iothreads " + std::to_string(c.iothreads) +
                         " is not supported (the engine looks only at the next arrival, which may be another IOThread's)");
}

}  // namespace

std::vector<std::string> valid_config_keys() {
    std::vector<std::string> keys = {"policy", "iothread.poll-max-ns", "iothread.poll-grow", "iothread.poll-shrink",
                                     "iothread.poll-weight", "iothread.poll-grow-start", "iothread.poll-allow-shrink",
                                     "oracle.latency_weight", "iothreads", "devices", "queues", "queue_size", "duration",
                                     "warmup", "seed", "replications", "threads", "profile", "poll_near_max",
                                     "mechanisms"};
    for (const char* k : {"type", "rw", "bs", "numjobs", "iodepth", "think", "spread", "rate_iops", "on_ns",
                          "off_ns", "trace", "format", "replay", "speed", "loop", "skip_bad", "reorder_window",
                          "service"})
        keys.push_back(std::string("workload.") + k);
    for (const auto& k : profile_keys()) keys.push_back("costs." + k);
    return keys;
}

std::string checked_config_key(const YAML::Node& key_node, const std::string& file, const std::string& section) {
    const std::string key = key_node.Scalar();
    if (!is_config_key(key))
        throw InputError(yaml_where(key_node, file, section + "." + key) +
                         ": unknown configuration key (`pollsim list keys` lists them)");
    return key;
}

std::string yaml_value_text(const YAML::Node& value) {
    if (value.IsScalar()) return value.Scalar();
    YAML::Emitter out;
    out << YAML::Flow << value;
    return out.c_str();
}

std::string file_assignment(const std::string& key, const std::string& value, const std::string& dir) {
    const bool is_path = key == "profile" || key == "workload.trace";
    return key + "=" + (is_path ? resolve_beside(dir, value) : value);
}

void apply_set(YAML::Node& root, const std::string& assignment) {
    const auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw InputError("--set '" + assignment + "': expected key=value");
    const std::string key = assignment.substr(0, eq);
    const std::string value = assignment.substr(eq + 1);
    if (value.empty())
        throw InputError("--set '" + assignment + "': no value after '=' (`pollsim list keys` shows the defaults)");
    if (!is_config_key(key)) {
        std::string list;
        for (const auto& k : valid_config_keys()) list += "\n  " + k;
        throw InputError("--set: unknown key '" + key + "'; valid keys:" + list);
    }
    YAML::Node parsed;
    try {
        parsed = YAML::Load(value);
    } catch (const YAML::Exception&) {
        parsed = YAML::Node(value);
    }
    // Strip the position so messages say "--set" and paths resolve from CWD.
    YAML::Node fresh = without_marks(parsed);
    if (!root || !root.IsMap()) root = YAML::Node(YAML::NodeType::Map);
    std::vector<std::string> parts;
    for (size_t start = 0, dot;; start = dot + 1) {
        dot = key.find('.', start);
        parts.push_back(key.substr(start, dot - start));
        if (dot == std::string::npos) break;
    }
    set_path(root, parts, 0, fresh);
}

Config load_config_text(const std::string& text, const std::string& name, const std::string& base_dir,
                        const std::vector<std::string>& sets, const std::string& iothread_props) {
    YAML::Node root = parse_yaml(text, name);
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) throw InputError(name + ": a config must be a map of keys");
    for (const auto& s : sets) apply_set(root, s);

    Config c;
    c.source = name;
    MapReader r(root, name, "");
    r.read("policy", c.policy);
    const PolicyOps* ops = find_policy(c.policy);
    if (!ops) throw InputError(r.where(root["policy"], "policy") + ": unknown policy '" + c.policy + "' (known: " + policy_names() + ")");

    PolicyParams given;
    {
        MapReader it(r.node("iothread"), name, "iothread");
        const int64_t big = int64_t{1} << 62;
        // Range checks name QEMU's property; resolve_policy_params checks the rest.
        it.read("poll-max-ns", given.poll_max_ns, 0, big);
        it.read("poll-grow", given.poll_grow, 0, big);
        it.read("poll-shrink", given.poll_shrink, 0, big);
        it.read("poll-weight", given.poll_weight, 0, 63);
        it.read("poll-grow-start", given.poll_grow_start, 0, big);
        it.read("poll-allow-shrink", given.poll_allow_shrink, 0, 1);
        it.finish();
    }
    {
        MapReader oracle(r.node("oracle"), name, "oracle");
        oracle.read("latency_weight", given.latency_weight, 0.0, 1e9);
        oracle.finish();
    }
    try {
        if (!iothread_props.empty()) parse_iothread_properties(iothread_props, given);
        c.iothread = resolve_policy_params(*ops, given);
    } catch (const std::invalid_argument& e) {
        throw InputError(std::string("--iothread: ") + e.what());
    }

    r.read("iothreads", c.iothreads, 1, 256);
    r.read("devices", c.devices, 1, 4096);
    r.read("queues", c.queues, 1, 256);
    r.read("queue_size", c.queue_size, 1, 32768);
    read_workload(MapReader(r.node("workload"), name, "workload"), c.workload, base_dir);
    check_fio_fits(c, r, root);
    if (ops->clairvoyant) check_foreseeable(c, r, root);
    r.read_duration("duration", c.duration_ns);
    r.read_duration("warmup", c.warmup_ns);
    if (c.duration_ns <= 0) throw InputError(r.where(root["duration"], "duration") + ": must be > 0");
    // The run ends at warmup + duration on an int64 clock: keep it below 2^62 ns.
    if (c.warmup_ns > (int64_t{1} << 62) - c.duration_ns) {
        char total[32];
        std::snprintf(total, sizeof total, "%.4g", static_cast<double>(c.warmup_ns) + static_cast<double>(c.duration_ns));
        throw InputError(r.where(root["warmup"] ? root["warmup"] : root["duration"],
                                 root["warmup"] ? "warmup" : "duration") +
                         ": warmup + duration = " + total +
                         " ns is longer than a run may be (2^62 ns, about 146 years)");
    }
    r.read("seed", c.seed);
    r.read("replications", c.replications, 1, 100000);
    r.read("threads", c.threads, 0, 1024);
    r.read("poll_near_max", c.poll_near_max, 0.0, 1.0);

    std::string profile;
    r.read("profile", profile);
    if (profile.empty()) throw InputError(name + ": key 'profile' is required (a profile YAML path)");
    c.profile_path = resolve_path(root["profile"], profile, base_dir);
    c.profile = load_profile(c.profile_path, r.node("costs"), name);
    std::vector<std::string> mechanisms;
    if (r.read_list("mechanisms", mechanisms)) {
        try {
            c.profile.mechanisms = resolve_mechanisms(mechanisms);
            require_mechanism_costs(c.profile);
        } catch (const std::invalid_argument& e) {
            throw InputError(r.where(root["mechanisms"], "mechanisms") + ": " + e.what());
        }
    }
    r.finish();
    return c;
}

Config load_config(const std::string& path, const std::vector<std::string>& sets, const std::string& iothread_props) {
    // Like sweep, check and tables: a path missing on disk that names an
    // embedded config (configs/...) reads that copy, so runs work anywhere.
    const SourceText src = read_source(path.empty() ? std::string(kEmbeddedPrefix) + kDefaultConfig : path,
                                       path.empty() ? "embedded default" : "config", /*embedded_fallback=*/true);
    return load_config_text(src.text, src.name, src.dir, sets, iothread_props);
}

nlohmann::ordered_json config_to_json(const Config& c) {
    nlohmann::ordered_json j;
    j["source"] = c.source;
    j["policy"] = c.policy;
    j["iothread"] = {{"poll-max-ns", c.iothread.poll_max_ns},
                     {"poll-grow", c.iothread.poll_grow},
                     {"poll-shrink", c.iothread.poll_shrink},
                     {"poll-weight", c.iothread.poll_weight}};
    // Only when set (non-zero: kvm-halt-poll, haltpoll), so QEMU's policies
    // keep their fingerprints.
    if (c.iothread.poll_grow_start) j["iothread"]["poll-grow-start"] = c.iothread.poll_grow_start;
    if (c.iothread.poll_allow_shrink) j["iothread"]["poll-allow-shrink"] = c.iothread.poll_allow_shrink;
    // Open loop only: the weight of metrics.cost.total (and the oracle's).
    if (is_open_loop(c.workload)) j["oracle"] = {{"latency_weight", c.iothread.latency_weight}};
    j["iothreads"] = c.iothreads;
    j["devices"] = c.devices;
    j["queues"] = c.queues;
    // Only when changed, so existing configs keep their fingerprints.
    if (c.queue_size != 256) j["queue_size"] = c.queue_size;
    const WorkloadConfig& w = c.workload;
    auto& wj = j["workload"];
    wj["type"] = w.type;
    if (w.type == "fio") {
        wj["rw"] = w.rw;
        wj["bs"] = w.bs;
        wj["numjobs"] = w.numjobs;
        wj["iodepth"] = w.iodepth;
        wj["think"] = w.think.to_json();
        wj["spread"] = w.spread;
    } else if (w.type == "trace") {
        wj["trace"] = w.trace;
        wj["format"] = w.format;
        wj["replay"] = w.replay;
        wj["speed"] = w.speed;
        wj["loop"] = w.loop;
        wj["skip_bad"] = w.skip_bad;
        wj["reorder_window"] = w.reorder_window;
        // Only when changed, so existing trace configs keep their fingerprints.
        if (w.service != "recorded") wj["service"] = w.service;
    } else {
        wj["rw"] = w.rw;
        wj["bs"] = w.bs;
        wj["spread"] = w.spread;
        wj["rate_iops"] = w.rate_iops;
        if (w.type == "onoff") {
            wj["on_ns"] = w.on_ns.to_json();
            wj["off_ns"] = w.off_ns.to_json();
        }
    }
    j["duration_ns"] = c.duration_ns;
    j["warmup_ns"] = c.warmup_ns;
    j["seed"] = c.seed;
    j["replications"] = c.replications;
    j["poll_near_max"] = c.poll_near_max;
    j["profile_path"] = c.profile_path;
    j["profile"] = profile_to_json(c.profile);
    return j;
}

}  // namespace pollsim
