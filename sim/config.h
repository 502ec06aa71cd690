// A fully resolved run configuration: what to simulate, with which policy and
// profile, for how long and how many times.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "sim/policy.h"
#include "sim/profile.h"
#include "sim/workload.h"

namespace YAML { class Node; }

namespace pollsim {

inline constexpr const char* kDefaultConfig = "configs/default.yaml";

struct Config {
    std::string source;              // file it came from ("embedded:configs/default.yaml" for the built-in)
    std::string policy = "weighted";
    PolicyParams iothread;           // resolved for `policy` (no -1 left)
    int iothreads = 1;
    int devices = 16;
    int queues = 1;
    // Requests one virtqueue holds (virtio-blk's default ring size): a guest
    // submit to a full one is refused (open loop) or waits in the guest
    // (closed loop); fio's numjobs x iodepth per virtqueue must fit.
    int queue_size = 256;
    WorkloadConfig workload;
    int64_t duration_ns = 2'000'000'000;
    int64_t warmup_ns = 200'000'000;
    uint64_t seed = 1;
    int replications = 3;
    int threads = 0;                 // worker threads for replications; 0: all cores
    double poll_near_max = 0.75;     // "time near max" threshold, fraction of poll-max-ns
    std::string profile_path;
    Profile profile;
};

// Loads CONFIG (a YAML file; "" means the embedded configs/default.yaml),
// applies each "key=value" of `sets` and resolves the profile. Throws
// InputError naming file, line and key for anything wrong.
Config load_config(const std::string& path, const std::vector<std::string>& sets = {},
                   const std::string& iothread_props = "");
// Same from YAML text already in memory (sweeps, tests). `name` for messages;
// relative paths resolve against `base_dir`.
Config load_config_text(const std::string& text, const std::string& name, const std::string& base_dir,
                        const std::vector<std::string>& sets = {}, const std::string& iothread_props = "");

// Applies "key=value" to a YAML tree (creating maps as needed); the key must
// be one of valid_config_keys(). Throws InputError listing the valid keys.
void apply_set(YAML::Node& root, const std::string& assignment);
std::vector<std::string> valid_config_keys();

// Sweep and check files hold `key: value` overrides that become --set
// assignments. The key must be one of valid_config_keys() (else InputError at
// the key's line in `file`, under `section`).
std::string checked_config_key(const YAML::Node& key_node, const std::string& file, const std::string& section);
// A value as apply_set() parses it back: scalars as written, maps (a
// distribution) as flow-style YAML.
std::string yaml_value_text(const YAML::Node& value);
// "key=value", with path-valued keys (profile, workload.trace) resolved
// beside the file that wrote them (`dir`).
std::string file_assignment(const std::string& key, const std::string& value, const std::string& dir);

nlohmann::ordered_json config_to_json(const Config& c);

}  // namespace pollsim
