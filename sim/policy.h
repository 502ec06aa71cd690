// The polling-policy interface. The engine holds a Policy pointer and never a
// policy name; policies/ implements it, one file each, listed in
// policies/registry.cpp (like fio's ioengine ops table).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace pollsim {

// QEMU's iothread properties. A value of -1 means "not given": the policy's
// ops entry supplies its own default (see PolicyOps::defaults).
struct PolicyParams {
    int64_t poll_max_ns = -1;
    int64_t poll_grow = -1;
    int64_t poll_shrink = -1;
    int64_t poll_weight = -1;
    // Not QEMU's: the Linux pollers' extra knobs (kvm-halt-poll, haltpoll),
    // set like the others (`iothread:` map, --set iothread.KEY, --iothread).
    // Ignored by the other policies.
    int64_t poll_grow_start = -1;    // halt_poll_ns_grow_start, guest_halt_poll_grow_start
    int64_t poll_allow_shrink = -1;  // guest_halt_poll_allow_shrink: 0 or 1
    // CPU-ns one ns of added latency is worth (config key
    // oracle.latency_weight, default 1): the oracle's trade-off, and the
    // weight of metrics.cost.total for every policy, so the two compare.
    double latency_weight = -1;
};

// What the engine knows about the wait ahead of an iteration (DESIGN §3 step
// 2), given only to a clairvoyant policy (PolicyOps::clairvoyant): the offline
// optimum. Open-loop arrivals make the future fixed in advance.
struct WaitOutlook {
    // From the iteration's start until work is next visible to a poll of the
    // poll list (an arrival on a poll-list virtqueue, a completion for a
    // poll-list cq); 0 if some is visible already; -1 if none is known.
    int64_t next_work_visible_ns = -1;
    // What going to sleep at once costs, from the profile's means: CPU (final
    // check of the poll list + wait syscall + wakeup CPU) and the wakeup
    // latency (idle until the scheduler runs the thread again).
    int64_t sleep_cpu_ns = 0;
    int64_t wakeup_latency_ns = 0;
};

// Counters a policy bumps during update(); the engine turns them into the
// reset rate and grow/shrink counts of DESIGN §7.
struct PolicyCounters {
    int64_t updates = 0;  // per-handler (or per-context for legacy-global) rule applications
    int64_t resets = 0;   // of those, the ones that ended with the value at 0
    int64_t grows = 0;
    int64_t shrinks = 0;
};

// Handlers are small dense integers chosen by the caller (the engine uses the
// handler's index in its AioContext).
class Policy {
public:
    virtual ~Policy() = default;
    // Busy-poll budget T for the next iteration (DESIGN §3 step 2).
    virtual int64_t poll_ns() const = 0;
    // A handler joined the poll list (its state starts at 0) or left it.
    virtual void handler_joined(int handler) {}
    virtual void handler_left(int handler) {}
    // After an iteration: poll_list lists every poll-list handler (including
    // ones that joined during this iteration's dispatch); dispatched[i] says
    // whether poll_list[i] was dispatched in this iteration.
    virtual void update(int64_t block_ns, std::span<const int> poll_list,
                        std::span<const uint8_t> dispatched, PolicyCounters& counters) = 0;
    // Per-handler poll time, for policies that keep one (reports, policy-trace).
    virtual std::optional<int64_t> handler_ns(int handler) const { return std::nullopt; }
    // Random-number seed for policies that draw (ski-rental-random); the
    // others ignore it. Until it is called such a policy uses a fixed seed of
    // its own, so a run is reproducible either way. Meant to be called once,
    // right after create(), with a seed derived from the run's seed, the
    // replication and the context (sim/simulation.cpp does).
    virtual void seed(uint64_t seed) {}
    // Clairvoyant policies only: the engine calls it at each iteration's
    // start, before poll_ns().
    virtual void foresee(const WaitOutlook& outlook) {}
};

// One row of the policy table.
struct PolicyOps {
    const char* name;
    const char* help;
    PolicyParams defaults;  // QEMU's defaults for this policy
    std::unique_ptr<Policy> (*create)(const PolicyParams& resolved);
    // Needs WaitOutlook (Policy::foresee), which the engine can give only on
    // open-loop workloads with one IOThread; runs with such a policy are
    // refused otherwise. Reports compare every open-loop run with it.
    bool clairvoyant = false;
};

const std::vector<PolicyOps>& policy_table();
// nullptr if unknown.
const PolicyOps* find_policy(std::string_view name);
// The clairvoyant policy (the offline optimum) of the table, nullptr if none.
const PolicyOps* find_clairvoyant_policy();
// Comma-separated list of names, for error messages and --help.
std::string policy_names();

// Fills unset (-1) fields from ops.defaults (latency_weight: 1) and
// validates: negative values, poll-weight outside [0, 63], poll-allow-shrink
// outside [0, 1] and a latency weight that is not a finite number >= 0 throw
// std::invalid_argument naming the parameter.
PolicyParams resolve_policy_params(const PolicyOps& ops, const PolicyParams& given);

// Parses QEMU's property syntax "poll-max-ns=32768,poll-grow=2,...", merging
// into `into`. Throws std::invalid_argument naming the bad item.
void parse_iothread_properties(std::string_view text, PolicyParams& into);

}  // namespace pollsim
