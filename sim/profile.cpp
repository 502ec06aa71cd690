#include "sim/profile.h"

#include <stdexcept>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "sim/error.h"
#include "sim/yaml_reader.h"

namespace pollsim {

namespace {

// One list drives decoding, JSON output and the valid-key list, so a new cost
// is added in one place.
struct DistField {
    const char* key;
    Dist Profile::*member;
    // Costs beyond DESIGN §6: left out of the JSON while 0, so configs of
    // the plain model keep their JSON and fingerprints.
    bool extension = false;
    // A cost only this mechanism uses: left out of the JSON while it is off,
    // so `mechanisms: []` gives the plain model's JSON whatever the profile.
    bool Mechanisms::*mechanism = nullptr;
};
constexpr DistField kDistFields[] = {
    {"spin_overhead_ns", &Profile::spin_overhead_ns},
    {"poll_check_ns", &Profile::poll_check_ns},
    {"syscall_ns", &Profile::syscall_ns},
    {"wakeup_latency_ns", &Profile::wakeup_latency_ns},
    {"wakeup_cpu_ns", &Profile::wakeup_cpu_ns},
    {"kick_latency_ns", &Profile::kick_latency_ns},
    {"guest_kick_ns", &Profile::guest_kick_ns},
    {"complete_notify_ns", &Profile::complete_notify_ns},
    {"vq_dispatch_ns", &Profile::vq_dispatch_ns},
    {"per_request_ns", &Profile::per_request_ns},
    {"submit_ns", &Profile::submit_ns},
    {"cq_dispatch_ns", &Profile::cq_dispatch_ns},
    {"per_completion_ns", &Profile::per_completion_ns},
    {"irq_inject_ns", &Profile::irq_inject_ns},
    {"iteration_ns", &Profile::iteration_ns, true},
    {"guest_wakeup_latency_ns", &Profile::guest_wakeup_latency_ns, true, &Mechanisms::guest_vcpus},
    {"guest_complete_ns", &Profile::guest_complete_ns, true, &Mechanisms::guest_vcpus},
};
constexpr DistField kServiceFields[] = {
    {"read", &Profile::service_read_ns},
    {"write", &Profile::service_write_ns},
    {"randread", &Profile::service_randread_ns},
    {"randwrite", &Profile::service_randwrite_ns},
};

}  // namespace

Profile profile_from_yaml(const YAML::Node& node, const std::string& file) {
    Profile p;
    MapReader r(node, file, "");
    r.read("name", p.name);
    r.read("description", p.description);
    for (const auto& f : kDistFields) r.read_dist(f.key, p.*f.member);
    if (r.has("timer_wakeup_latency_ns")) r.read_dist("timer_wakeup_latency_ns", p.timer_wakeup_latency_ns.emplace());
    else (void)r.node("timer_wakeup_latency_ns");
    r.read_duration("poll_idle_interval_ns", p.poll_idle_interval_ns);
    r.read("aio_max_batch", p.aio_max_batch, 0, 1 << 20);
    r.read("device_queue_depth", p.device_queue_depth, 0, 1 << 20);
    r.read_duration("service_per_kib_ns", p.service_per_kib_ns);
    r.read("guest_vcpus", p.guest_vcpus, 0, 4096);
    r.read_duration("guest_halt_poll_ns", p.guest_halt_poll_ns);
    MapReader service(r.node("service"), file, "service");
    for (const auto& f : kServiceFields) service.read_dist(f.key, p.*f.member);
    service.finish();
    std::vector<std::string> names;
    if (r.read_list("mechanisms", names)) {
        try {
            p.mechanisms = resolve_mechanisms(names);
        } catch (const std::invalid_argument& e) {
            throw InputError(r.where(node["mechanisms"], "mechanisms") + ": " + e.what());
        }
    }
    try {
        require_mechanism_costs(p);
    } catch (const std::invalid_argument& e) {
        throw InputError(r.where(node["mechanisms"], "mechanisms") + ": " + e.what());
    }
    // Bounds for `pollsim calibrate` (sim/calibrate.h reads them); they do
    // not change the simulation, so the engine only has to accept the key.
    (void)r.node("calibration");
    r.finish();
    return p;
}

void require_mechanism_costs(const Profile& p) {
    if (p.mechanisms.guest_vcpus && p.guest_vcpus == 0)
        throw std::invalid_argument("mechanism 'guest-vcpus' needs the profile's 'guest_vcpus' (the guest's vCPU count, at least 1)");
}

nlohmann::ordered_json profile_to_json(const Profile& p) {
    nlohmann::ordered_json j;
    j["name"] = p.name;
    for (const auto& f : kDistFields) {
        const Dist& d = p.*f.member;
        if (f.mechanism && !(p.mechanisms.*f.mechanism)) continue;
        if (!f.extension || !d.is_constant() || d.constant_ns() != 0) j[f.key] = d.to_json();
    }
    if (p.timer_wakeup_latency_ns) j["timer_wakeup_latency_ns"] = p.timer_wakeup_latency_ns->to_json();
    j["poll_idle_interval_ns"] = p.poll_idle_interval_ns;
    j["aio_max_batch"] = p.aio_max_batch;
    j["device_queue_depth"] = p.device_queue_depth;
    j["service_per_kib_ns"] = p.service_per_kib_ns;
    if (p.mechanisms.guest_vcpus) {
        j["guest_vcpus"] = p.guest_vcpus;
        j["guest_halt_poll_ns"] = p.guest_halt_poll_ns;
    }
    for (const auto& f : kServiceFields) j["service"][f.key] = (p.*f.member).to_json();
    // Only when some are on, so configs of the plain DESIGN model keep their
    // JSON (and the fingerprints that sweep caches and check baselines use).
    if (const auto names = mechanism_list(p.mechanisms); !names.empty()) j["mechanisms"] = names;
    return j;
}

std::vector<std::string> profile_keys() {
    std::vector<std::string> keys;
    for (const auto& f : kDistFields) keys.emplace_back(f.key);
    for (const char* k : {"timer_wakeup_latency_ns", "poll_idle_interval_ns", "aio_max_batch", "device_queue_depth",
                          "service_per_kib_ns", "guest_vcpus", "guest_halt_poll_ns"})
        keys.emplace_back(k);
    for (const auto& f : kServiceFields) keys.push_back(std::string("service.") + f.key);
    return keys;
}

}  // namespace pollsim
