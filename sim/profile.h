// The CPU cost model and storage of one host (DESIGN §4, §6): every cost the
// engine charges, as constants or distributions, loaded from a profile YAML.
#pragma once
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>

#include "sim/dist.h"
#include "sim/mechanisms.h"
#include "sim/request.h"

namespace YAML { class Node; }

namespace pollsim {

struct Profile {
    std::string name;
    std::string description;
    // Busy polling (DESIGN §3 step 3): one spin = spin_overhead + n_poll * poll_check.
    Dist spin_overhead_ns = Dist::constant(0);
    Dist poll_check_ns = Dist::constant(0);
    // Waiting (step 5).
    Dist syscall_ns = Dist::constant(0);
    Dist wakeup_latency_ns = Dist::constant(0);
    Dist wakeup_cpu_ns = Dist::constant(0);
    // Beyond DESIGN §3: the scheduler delay of a wake-up by a timer deadline
    // (the wait's timeout, timer-completions) rather than by an fd; unset
    // means wakeup_latency_ns. `pollsim validate` needs the two apart: it
    // replays arrivals at the moment real QEMU took them, after the real
    // kick and fd wake-up, while nothing recorded holds the timer wake-ups.
    std::optional<Dist> timer_wakeup_latency_ns;
    // Guest notification and completion notification.
    Dist kick_latency_ns = Dist::constant(0);
    Dist guest_kick_ns = Dist::constant(0);
    Dist complete_notify_ns = Dist::constant(0);
    // Dispatch (step 7, DESIGN §4).
    Dist vq_dispatch_ns = Dist::constant(0);
    Dist per_request_ns = Dist::constant(0);
    Dist submit_ns = Dist::constant(0);
    Dist cq_dispatch_ns = Dist::constant(0);
    Dist per_completion_ns = Dist::constant(0);
    Dist irq_inject_ns = Dist::constant(0);
    // Beyond DESIGN §6: the loop's own work at the start of every iteration
    // (aio_poll() entry: lock count, aio_compute_timeout(), the notify_me
    // handshake), busy and inside block_ns. 0 in DESIGN's model; see the
    // README's "Mechanisms beyond DESIGN.md".
    Dist iteration_ns = Dist::constant(0);
    // Beyond DESIGN §6, used by the guest-vcpus mechanism only: the guest's
    // vCPU count (devices go round-robin to vCPUs), the wake-up of a halted
    // vCPU by an interrupt, the vCPU time per completion, and KVM's halt
    // polling window (a vCPU that halted less than this ago runs at once,
    // and the host CPU it polled for is counted).
    int64_t guest_vcpus = 0;
    Dist guest_wakeup_latency_ns = Dist::constant(0);
    Dist guest_complete_ns = Dist::constant(0);
    int64_t guest_halt_poll_ns = 0;
    // Event loop and backend shape.
    int64_t poll_idle_interval_ns = 7'000'000'000;  // QEMU's POLL_IDLE_INTERVAL_NS
    int64_t aio_max_batch = 0;                       // 0: no limit
    int64_t device_queue_depth = 0;                  // servers per device; 0: unbounded
    // Backend service time at 4 KiB per access pattern; larger blocks add
    // service_per_kib_ns for each KiB above 4.
    Dist service_read_ns = Dist::constant(100000);
    Dist service_write_ns = Dist::constant(100000);
    Dist service_randread_ns = Dist::constant(100000);
    Dist service_randwrite_ns = Dist::constant(100000);
    int64_t service_per_kib_ns = 0;
    // Engine parts beyond DESIGN §3-7 this host has (sim/mechanisms.h); a
    // config's `mechanisms` key replaces the list.
    Mechanisms mechanisms;

    const Dist& service(Op op, bool random) const {
        if (op == Op::read) return random ? service_randread_ns : service_read_ns;
        return random ? service_randwrite_ns : service_write_ns;
    }
    int64_t extra_service_ns(int64_t bytes) const {
        return bytes > 4096 ? (bytes - 4096) / 1024 * service_per_kib_ns : 0;
    }
};

// Decodes a profile map (every key known, see profile.cpp). `file` for messages.
Profile profile_from_yaml(const YAML::Node& node, const std::string& file);
// Throws std::invalid_argument when an enabled mechanism lacks a cost it needs.
void require_mechanism_costs(const Profile& p);
nlohmann::ordered_json profile_to_json(const Profile& p);
// Dotted keys accepted under `costs.` in a config (for --set and sweeps).
std::vector<std::string> profile_keys();

}  // namespace pollsim
