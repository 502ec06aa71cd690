// The arrival-source interface. The engine drives a Workload through these
// calls and never names one; workloads/registry.cpp lists the implementations.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sim/dist.h"
#include "sim/request.h"

namespace pollsim {

// Everything under `workload:` in a config. One struct for all workload
// types keeps every key in one place (and unknown keys reportable).
struct WorkloadConfig {
    std::string type = "fio";      // fio (closed loop) | poisson | onoff | trace
    std::string rw = "randread";   // read | write | randread | randwrite
    int64_t bs = 4096;             // bytes per request
    int numjobs = 1;
    int iodepth = 8;
    Dist think;                    // guest think time between completion and next submit (fio)
    std::string spread = "separate";  // separate: job j uses device j mod devices; all: uniform random device
    double rate_iops = 10000;      // open loop: mean arrival rate (poisson; onoff while on)
    Dist on_ns = Dist::constant(10000000);   // onoff: length of an on period
    Dist off_ns = Dist::constant(10000000);  // onoff: length of an off period
    // Recorded traces (workloads/trace*).
    std::string trace;             // file path
    std::string format = "auto";   // auto | csv | jsonl | blkparse | fio-iolog | fio-lat | qemu-log
    std::string replay = "open";   // open | closed
    double speed = 1.0;            // time scale: 2.0 replays twice as fast
    bool loop = false;             // repeat the trace for the whole run
    bool skip_bad = false;         // skip malformed lines instead of failing
    int64_t reorder_window = 1024; // records a reader may sort out of order
    // recorded: a request's service time is its recorded one (complete -
    // submit if that is all the trace has); profile: drawn from the profile,
    // for logs whose recorded completion includes the event loop's own delay
    // (QEMU's null-aio timers: `pollsim validate`).
    // profile-recorded-wake: drawn from the profile, and with
    // timer-completions each timer's wake-up delay is the recording's
    // (complete - submit - service).
    std::string service = "recorded";
};

// What the engine offers a workload.
class GuestApi {
public:
    virtual ~GuestApi() = default;
    virtual int64_t now_ns() const = 0;
    // Guest places a request on virtqueue (req.device, req.queue) now.
    virtual void submit(IoRequest req) = 0;
    // Call on_timer(cookie) at t_ns (>= now).
    virtual void timer_at(int64_t t_ns, uint64_t cookie) = 0;
    virtual int devices() const = 0;
    virtual int queues() const = 0;
    // Count a skipped or malformed input record (reported in run metrics).
    virtual void count_skipped(int64_t n) {}
};

// A submission an open-loop source has planned: when, and on which virtqueue.
struct PlannedSubmission {
    int64_t t_ns = 0;
    int32_t device = 0;  // as the request will carry it (< guest.devices())
    int32_t queue = 0;
};

class Workload {
public:
    virtual ~Workload() = default;
    virtual void start(GuestApi& guest) = 0;
    virtual void on_timer(GuestApi& guest, uint64_t cookie) = 0;
    // A request completed for the guest at guest.now_ns().
    virtual void on_complete(GuestApi& guest, const IoRequest& req) = 0;
    // Open-loop sources fix their arrivals in advance, whatever the policy
    // does; they can tell the next one (the offline optimum's lookahead,
    // PolicyOps::clairvoyant). Closed-loop sources, whose submissions wait
    // for completions, cannot.
    virtual bool open_loop() const { return false; }
    // The next submission after start(); nullopt when no more will come.
    virtual std::optional<PlannedSubmission> next_submission() const { return std::nullopt; }
    // Whether each job lives alone: it submits to one virtqueue only, draws
    // from no state another job uses, and start() sets no timer. IOThreads
    // that then share nothing run one after another (Simulation::build_queues).
    virtual bool jobs_independent() const { return false; }
};

struct WorkloadOps {
    const char* name;
    const char* help;
    // seed is per replication; throws std::runtime_error on bad config/input.
    std::unique_ptr<Workload> (*create)(const WorkloadConfig& cfg, uint64_t seed);
};

const std::vector<WorkloadOps>& workload_table();
// Whether `cfg` describes open-loop arrivals (poisson, onoff, trace replayed
// open), fixed in advance whatever the policy does.
bool is_open_loop(const WorkloadConfig& cfg);
const WorkloadOps* find_workload(std::string_view name);
std::string workload_names();

}  // namespace pollsim
