// One replication: the guest (a Workload), the IOThreads (AioContexts) and
// the backend devices on one virtual clock.
#pragma once
#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "sim/aio_context.h"
#include "sim/config.h"
#include "sim/event_queue.h"
#include "sim/guest_vcpus.h"
#include "sim/stats.h"
#include "sim/workload.h"

namespace pollsim {

// Sees every request the guest completes (trace synth, tests).
class RequestObserver {
public:
    virtual ~RequestObserver() = default;
    // service_ns: backend service time; complete_ns: guest completion time.
    virtual void on_request(const IoRequest& req, int64_t service_ns, int64_t complete_ns) = 0;
};

struct ReplicationResult {
    Window window;
    std::vector<ContextStats> contexts;  // per IOThread
    int64_t events = 0;
    // Groups of IOThreads that shared nothing and ran one after another on
    // queues of their own (1: all on one queue).
    int event_queues = 1;
    int64_t skipped_records = 0;
    // Per IOThread, in the window: open-loop submits refused by a full
    // virtqueue (queue_size), and closed-loop ones that waited in the guest
    // for a free entry. Empty vectors read as zeros.
    std::vector<int64_t> requests_refused;
    std::vector<int64_t> requests_deferred;
    // The guest-vcpus mechanism ran: the guest CPU counters mean something.
    bool guest_vcpus = false;
};

class Simulation final : public GuestApi, public ContextHost, public GuestVcpus::Host {
public:
    Simulation(const Config& config, int replication, RequestObserver* observer = nullptr);
    // With a workload of the caller's (tests, tools) instead of config.workload.type.
    Simulation(const Config& config, int replication, std::unique_ptr<Workload> workload,
               RequestObserver* observer = nullptr);
    ~Simulation() override;
    ReplicationResult run();
    // Every IOThread writes its loop events to `out` (AioContext::set_trace),
    // interleaved in time order, so they run on one clock.
    void trace_loops(std::FILE* out) {
        for (auto& c : contexts_) c->set_trace(out);
        build_queues(false);
    }
    // Runs every IOThread on one event queue even where groups of them are
    // independent (see build_queues): the results are the same, this only
    // lets tests compare the two. Call before run().
    void run_on_one_queue() { build_queues(false); }
    // How many independent groups of IOThreads run one after another.
    int queue_count() const { return static_cast<int>(groups_.size()); }

    // GuestApi
    int64_t now_ns() const override { return now_ns_; }
    void submit(IoRequest req) override;
    void timer_at(int64_t t_ns, uint64_t cookie) override;
    int devices() const override { return config_.devices; }
    int queues() const override { return config_.queues; }
    void count_skipped(int64_t n) override { skipped_ += n; }

private:
    // A request in flight, in one cache line of its own: with hundreds in
    // flight the slots do not stay in L1, and each touch costs a line.
    struct alignas(64) Slot {
        IoRequest req;
        int32_t ctx = 0;
        int32_t next_free = -1;
    };
    // Its backend service, apart: only the observer, recorded wake-ups and
    // clairvoyant policies read it.
    struct Service {
        int64_t service_ns = 0;
        // End of its backend service while in service, else kNever; kept
        // only for a clairvoyant policy (track_done_): clearing it at every
        // completion cost the others a cache miss per request.
        int64_t done_ns = kNever;
    };
    // What every service start and end touches first, in one cache line.
    struct alignas(64) Device {
        int64_t busy = 0;          // requests in service
        Rng rng;
        Fifo<int32_t> waiting;     // beyond device_queue_depth (only with a depth)
    };

    // ContextHost
    void schedule_step(int ctx, int64_t t_ns, uint64_t generation) override;
    void cancel_step(int ctx) override;
    void to_backend(int32_t request_id) override;
    void to_guest(int32_t request_id) override;
    // GuestVcpus::Host
    void schedule_vcpu(int vcpu, int64_t t_ns) override;
    void complete_for_guest(int32_t request_id) override;
    void charge_vcpu(int32_t request_id, int64_t from_ns, int64_t to_ns, bool halt_poll) override;
    int32_t request_device(int32_t request_id) const override { return slots_[request_id].req.device; }
    int64_t request_recorded_wake_ns(int32_t request_id) const override {
        const int64_t recorded_ns = slots_[request_id].req.recorded_latency_ns;
        return recorded_ns < 0 ? -1 : std::max<int64_t>(0, recorded_ns - service_[request_id].service_ns);
    }
    int64_t next_arrival_ns(int ctx, int& handler) const override;
    int64_t next_completion_ns(int ctx) const override;

    // A request's virtqueue: its device's queues are numbered one after another.
    int vq_of(int device, int queue) const { return device * config_.queues + queue; }
    void place(const IoRequest& req, int vq);
    void start_service(int32_t request_id);
    void backend_done(int32_t request_id, int vq);
    void prefetch_next(const std::vector<AioContext*>& running) const;
    void build_queues(bool split);
    EventQueue* queue_of_group(size_t q);
    void run_group(size_t q, int64_t& events);
    int32_t alloc_slot();

    const Config& config_;
    RequestObserver* observer_;
    Window window_;
    // One event queue per group of IOThreads that share nothing
    // (build_queues). events_ is the one being run, a member so that the
    // loop reaches it without a pointer; the later groups' queues wait in
    // later_queues_ and are moved into it in turn. A context's step and a
    // vCPU's completion live in their group's queue, in a slot of their own.
    struct Group {
        std::vector<AioContext*> contexts;  // by step slot
        std::vector<int32_t> vcpus;         // by vCPU slot
    };
    struct SlotRoute {
        EventQueue* queue = nullptr;
        int32_t slot = 0;
    };
    EventQueue events_;
    std::vector<EventQueue> later_queues_;  // groups 1, 2, ...
    std::vector<Group> groups_;
    std::vector<SlotRoute> step_route_;     // per context
    std::vector<SlotRoute> vcpu_route_;     // per vCPU
    int64_t now_ns_ = 0;
    bool running_ = false;  // past start(): timers go to the queue being run
    int64_t skipped_ = 0;
    std::unique_ptr<Workload> workload_;
    std::vector<std::unique_ptr<AioContext>> contexts_;
    std::unique_ptr<GuestVcpus> vcpus_;  // guest-vcpus mechanism only
    std::vector<Device> devices_;
    std::vector<Slot> slots_;
    std::vector<Service> service_;  // parallel to slots_
    bool track_done_ = false;       // keep Service::done_ns (a clairvoyant policy asks next_completion_ns)
    int32_t free_slot_ = -1;
    // Per virtqueue: its IOThread and its handler there (round-robin), and
    // its device, so that a submit or a service end needs no division.
    std::vector<int32_t> vq_context_, vq_handler_, vq_device_;
    // Per virtqueue: requests the guest placed and has not had back, at most
    // config.queue_size; closed-loop requests waiting for an entry.
    std::vector<int32_t> vq_in_flight_;
    std::vector<Fifo<IoRequest>> vq_waiting_;
    std::vector<int64_t> refused_, deferred_;  // per IOThread
};

// Convenience: run one replication of `config`.
ReplicationResult run_replication(const Config& config, int replication, RequestObserver* observer = nullptr);

}  // namespace pollsim
