#include "sim/simulation.h"

#include <numeric>
#include <stdexcept>

#include "sim/error.h"

namespace pollsim {

namespace {
// Stream ids for Rng(seed, stream, index): one per purpose, so that two
// policies run on one seed draw the same service and think times.
enum Stream : uint64_t { kContextStream = 1, kDeviceStream = 2, kWorkloadStream = 3, kPolicyStream = 4,
               kGuestStream = 5 };

// v mod n in [0, n) for any v; the division only for values out of range.
int32_t wrap_index(int32_t v, int32_t n) {
    if (static_cast<uint32_t>(v) < static_cast<uint32_t>(n)) return v;
    return ((v % n) + n) % n;
}

uint64_t replication_seed(uint64_t seed, int replication) {
    uint64_t x = seed ^ (0x5851f42d4c957f2dULL * static_cast<uint64_t>(replication + 1));
    return splitmix64(x);
}

std::unique_ptr<Workload> make_configured_workload(const Config& config, int replication) {
    const WorkloadOps* wops = find_workload(config.workload.type);
    if (!wops) throw InputError("unknown workload type '" + config.workload.type + "' (known: " + workload_names() + ")");
    return wops->create(config.workload, Rng(replication_seed(config.seed, replication), kWorkloadStream).next());
}
}  // namespace

Simulation::Simulation(const Config& config, int replication, RequestObserver* observer)
    : Simulation(config, replication, make_configured_workload(config, replication), observer) {}

Simulation::Simulation(const Config& config, int replication, std::unique_ptr<Workload> workload,
                       RequestObserver* observer)
    : config_(config),
      observer_(observer),
      workload_(std::move(workload)) {
    window_ = Window{config.warmup_ns, config.warmup_ns + config.duration_ns};
    const uint64_t seed = replication_seed(config.seed, replication);
    const PolicyOps* ops = find_policy(config.policy);
    if (!ops) throw InputError("unknown policy '" + config.policy + "' (known: " + policy_names() + ")");
    // load_config refuses these with the key's position; this covers callers
    // that bring their own workload.
    if (ops->clairvoyant && (!workload_->open_loop() || config.iothreads != 1))
        throw InputError("policy '" + config.policy +
                         "' knows the future only of open-loop arrivals on one IOThread");

    track_done_ = ops->clairvoyant;
    // Virtqueues go round-robin to IOThreads; within a context they keep
    // device-then-queue order, which is also the dispatch order.
    const int n_vq_total = config.devices * config.queues;
    for (int c = 0; c < config.iothreads; ++c) {
        const int n_vq = n_vq_total / config.iothreads + (c < n_vq_total % config.iothreads ? 1 : 0);
        // A randomized policy draws from its own stream (4), so that no other draw moves.
        std::unique_ptr<Policy> policy = ops->create(config.iothread);
        policy->seed(Rng(seed, kPolicyStream, static_cast<uint64_t>(c)).next());
        contexts_.push_back(std::make_unique<AioContext>(c, n_vq, config.profile, std::move(policy),
                                                         config.iothread.poll_max_ns, config.poll_near_max, window_,
                                                         *this, Rng(seed, kContextStream, c).next()));
        if (ops->clairvoyant) contexts_.back()->foresee_waits();
    }
    vq_context_.resize(n_vq_total);
    vq_handler_.resize(n_vq_total);
    vq_device_.resize(n_vq_total);
    for (int vq = 0; vq < n_vq_total; ++vq) {
        vq_context_[vq] = vq % config.iothreads;
        vq_handler_[vq] = vq / config.iothreads;
        vq_device_[vq] = vq / config.queues;
    }
    vq_in_flight_.assign(n_vq_total, 0);
    vq_waiting_.resize(n_vq_total);
    refused_.assign(config.iothreads, 0);
    deferred_.assign(config.iothreads, 0);
    devices_.resize(config.devices);
    for (int d = 0; d < config.devices; ++d) devices_[d].rng = Rng(seed, kDeviceStream, d);
    if (config.profile.mechanisms.guest_vcpus)
        vcpus_ = std::make_unique<GuestVcpus>(config.profile, Rng(seed, kGuestStream).next(), *this);
    build_queues(true);
}

Simulation::~Simulation() = default;

int32_t Simulation::alloc_slot() {
    if (free_slot_ < 0) {
        slots_.emplace_back();
        service_.emplace_back();
        return static_cast<int32_t>(slots_.size() - 1);
    }
    const int32_t id = free_slot_;
    free_slot_ = slots_[id].next_free;
    return id;
}

void Simulation::submit(IoRequest req) {
    req.t_sub_ns = now_ns_;
    req.device = wrap_index(req.device, config_.devices);
    req.queue = wrap_index(req.queue, config_.queues);
    const int vq = vq_of(req.device, req.queue);
    if (vq_in_flight_[vq] >= config_.queue_size) {
        // A full virtqueue: an open-loop source loses the request; a
        // closed-loop one (a job) waits in the guest for a free entry, its
        // latency counted from now.
        const bool counted = window_.contains(now_ns_);
        if (req.job < 0) {
            if (counted) ++refused_[vq_context_[vq]];
        } else {
            if (counted) ++deferred_[vq_context_[vq]];
            vq_waiting_[vq].push(req);
        }
        return;
    }
    place(req, vq);
}

void Simulation::place(const IoRequest& req, int vq) {
    ++vq_in_flight_[vq];
    const int32_t id = alloc_slot();
    const int ctx = vq_context_[vq];
    slots_[id].req = req;
    slots_[id].ctx = ctx;
    contexts_[ctx]->guest_submit(vq_handler_[vq], id, now_ns_);
}

void Simulation::timer_at(int64_t t_ns, uint64_t cookie) {
    // A timer goes to the queue being run: Workload::jobs_independent()
    // promises none before the run, when that queue could be another group's.
    if (!running_ && !later_queues_.empty()) throw std::logic_error("a workload with independent jobs set a timer in start()");
    events_.push(std::max(t_ns, now_ns_), EventType::workload_timer, 0, cookie);
}

void Simulation::schedule_step(int ctx, int64_t t_ns, uint64_t generation) {
    const SlotRoute& route = step_route_[ctx];
    route.queue->set_step(route.slot, t_ns, generation);
}

void Simulation::cancel_step(int ctx) {
    const SlotRoute& route = step_route_[ctx];
    route.queue->cancel_step(route.slot);
}

void Simulation::to_backend(int32_t request_id) {
    Device& dev = devices_[slots_[request_id].req.device];
    const int64_t depth = config_.profile.device_queue_depth;
    if (depth > 0 && dev.busy >= depth) dev.waiting.push(request_id);
    else start_service(request_id);
}

void Simulation::start_service(int32_t request_id) {
    const Slot& s = slots_[request_id];
    Service& service = service_[request_id];
    Device& dev = devices_[s.req.device];
    ++dev.busy;
    service.service_ns = s.req.service_ns >= 0
                             ? s.req.service_ns
                             : config_.profile.service(s.req.op, s.req.random).sample(dev.rng) +
                                   config_.profile.extra_service_ns(s.req.bytes);
    const int64_t done_ns = now_ns_ + service.service_ns;
    if (track_done_) service.done_ns = done_ns;
    // The virtqueue rides in the event, so that its end need not read the slot.
    const int vq = vq_of(s.req.device, s.req.queue);
    events_.push(done_ns, EventType::backend_done, request_id, static_cast<uint64_t>(vq));
    if (config_.profile.mechanisms.timer_completions) contexts_[s.ctx]->arm_timer(done_ns);
}

void Simulation::backend_done(int32_t request_id, int vq) {
    Device& dev = devices_[vq_device_[vq]];
    if (track_done_) service_[request_id].done_ns = kNever;
    --dev.busy;
    if (config_.profile.device_queue_depth > 0 && !dev.waiting.empty()) start_service(dev.waiting.pop());
    contexts_[vq_context_[vq]]->backend_complete(request_id, now_ns_);
}

void Simulation::to_guest(int32_t request_id) {
    if (vcpus_) vcpus_->interrupt(request_id, slots_[request_id].req.device, now_ns_);
    else complete_for_guest(request_id);
}

void Simulation::schedule_vcpu(int vcpu, int64_t t_ns) {
    const SlotRoute& route = vcpu_route_[vcpu];
    route.queue->set_vcpu_done(route.slot, t_ns);
}

void Simulation::charge_vcpu(int32_t request_id, int64_t from_ns, int64_t to_ns, bool halt_poll) {
    contexts_[slots_[request_id].ctx]->charge_guest(from_ns, to_ns, halt_poll);
}

void Simulation::complete_for_guest(int32_t request_id) {
    const Slot s = slots_[request_id];
    // Read before the slot is freed and possibly taken again below.
    const int64_t service_ns = observer_ ? service_[request_id].service_ns : 0;
    slots_[request_id].next_free = free_slot_;
    free_slot_ = request_id;
    const int vq = vq_of(s.req.device, s.req.queue);
    // Requests wait only for a full virtqueue, so none can be waiting
    // unless this one was full (and its waiting list stays untouched).
    if (vq_in_flight_[vq]-- == config_.queue_size && !vq_waiting_[vq].empty()) place(vq_waiting_[vq].pop(), vq);
    contexts_[s.ctx]->record_guest_completion(s.req, now_ns_);
    if (observer_) observer_->on_request(s.req, service_ns, now_ns_);
    workload_->on_complete(*this, s.req);
}

int64_t Simulation::next_arrival_ns(int ctx, int& handler) const {
    const std::optional<PlannedSubmission> next = workload_->next_submission();
    if (!next) return kNever;
    const int vq = vq_of(next->device, next->queue);
    if (vq % config_.iothreads != ctx) return kNever;  // unknown for ctx: clairvoyance needs one IOThread
    handler = vq / config_.iothreads;
    return next->t_ns;
}

// A scan, but only clairvoyant runs ask, and open loop keeps few in flight.
int64_t Simulation::next_completion_ns(int ctx) const {
    int64_t t_ns = kNever;
    for (size_t id = 0; id < slots_.size(); ++id)
        if (slots_[id].ctx == ctx) t_ns = std::min(t_ns, service_[id].done_ns);
    return t_ns;
}

// With many IOThreads the next event's context is out of L1 (the others
// ran since its last event), and its first read decides which way the step
// goes. Its likely candidates are known as this event is handled: the
// context with the next step and the one owning the next service end.
// Asking for their lines now overlaps those misses with this event's work.
void Simulation::prefetch_next(const std::vector<AioContext*>& running) const {
    if (running.size() < 2) return;  // one context stays in L1
    const int slot = events_.next_step_context();
    if (slot >= 0) running[slot]->prefetch();
    const int vq = events_.next_backend_vq();
    if (vq >= 0) {
        __builtin_prefetch(&devices_[vq_device_[vq]]);
        contexts_[vq_context_[vq]]->prefetch();
    }
}

// IOThreads that share no device, no guest vCPU and no workload state
// cannot change one another's events. Run one group after another, each on
// a queue of its own: a group's events then come in the same (time, class,
// seq) order as on one queue for all (seq only orders a group's events
// among themselves, and they are pushed in the same order), so every figure
// is the same, while one group's working set stays in cache instead of 32
// contexts interleaving. A device joins the IOThreads of its
// virtqueues, and a guest vCPU those of its devices (each vCPU draws from
// streams of its own). One queue when a workload draws from one stream for
// every job, when an observer or a trace must see events in time order, or
// for a clairvoyant policy, which reads every request.
void Simulation::build_queues(bool split) {
    const int n = config_.iothreads;
    split = split && n > 1 && workload_->jobs_independent() && !observer_ && !track_done_;
    // Union-find over contexts; a root is its group's lowest context.
    std::vector<int32_t> parent(static_cast<size_t>(n));
    std::iota(parent.begin(), parent.end(), 0);
    auto find = [&parent](int32_t c) {
        while (parent[c] != c) c = parent[c] = parent[parent[c]];
        return c;
    };
    auto join = [&](int32_t a, int32_t b) {
        a = find(a);
        b = find(b);
        parent[std::max(a, b)] = std::min(a, b);
    };
    const int n_vcpus = vcpus_ ? vcpus_->count() : 0;
    std::vector<int32_t> vcpu_context(static_cast<size_t>(n_vcpus), -1);  // the IOThread of a vCPU's first device
    for (int d = 0; d < config_.devices; ++d) {
        const int32_t ctx = vq_context_[vq_of(d, 0)];
        for (int q = 1; q < config_.queues; ++q) join(ctx, vq_context_[vq_of(d, q)]);
        if (n_vcpus == 0) continue;
        int32_t& first = vcpu_context[vcpus_->vcpu_of(d)];
        if (first < 0) first = ctx;
        else join(ctx, first);
    }
    groups_.clear();
    std::vector<int32_t> group_of_root(static_cast<size_t>(n), -1), group_of(static_cast<size_t>(n));
    step_route_.assign(static_cast<size_t>(n), SlotRoute{});
    for (int32_t c = 0; c < n; ++c) {
        const int32_t root = split ? find(c) : 0;
        if (group_of_root[root] < 0) {
            group_of_root[root] = static_cast<int32_t>(groups_.size());
            groups_.emplace_back();
        }
        Group& g = groups_[group_of_root[root]];
        group_of[c] = group_of_root[root];
        step_route_[c].slot = static_cast<int32_t>(g.contexts.size());
        g.contexts.push_back(contexts_[c].get());
    }
    // A vCPU goes with its devices' IOThreads (one with no device, to the first group).
    std::vector<int32_t> vcpu_group(static_cast<size_t>(n_vcpus), 0);
    vcpu_route_.assign(static_cast<size_t>(n_vcpus), SlotRoute{});
    for (int v = 0; v < n_vcpus; ++v) {
        if (vcpu_context[v] >= 0) vcpu_group[v] = group_of[vcpu_context[v]];
        Group& g = groups_[vcpu_group[v]];
        vcpu_route_[v].slot = static_cast<int32_t>(g.vcpus.size());
        g.vcpus.push_back(v);
    }
    // The first group's queue is events_ from the start; the others wait.
    later_queues_.clear();
    for (size_t q = 0; q < groups_.size(); ++q) {
        EventQueue queue(static_cast<int>(groups_[q].contexts.size()), static_cast<int>(groups_[q].vcpus.size()));
        if (q == 0) events_ = std::move(queue);
        else later_queues_.push_back(std::move(queue));
    }
    for (int32_t c = 0; c < n; ++c) step_route_[c].queue = queue_of_group(group_of[c]);
    for (int v = 0; v < n_vcpus; ++v) vcpu_route_[v].queue = queue_of_group(vcpu_group[v]);
}

EventQueue* Simulation::queue_of_group(size_t q) { return q == 0 ? &events_ : &later_queues_[q - 1]; }

void Simulation::run_group(size_t q, int64_t& events) {
    const Group& group = groups_[q];
    if (q > 0) {
        // Its queue moves into events_: the routes that led to it follow.
        EventQueue* waiting = &later_queues_[q - 1];
        events_ = std::move(*waiting);
        for (SlotRoute& r : step_route_)
            if (r.queue == waiting) r.queue = &events_;
        for (SlotRoute& r : vcpu_route_)
            if (r.queue == waiting) r.queue = &events_;
    }
    Event ev;
    while (events_.pop_before(window_.end_ns, ev)) {
        now_ns_ = ev.t_ns;
        ++events;
        prefetch_next(group.contexts);
        switch (ev.type) {
        case EventType::workload_timer: workload_->on_timer(*this, ev.data); break;
        case EventType::backend_done: backend_done(ev.target, static_cast<int>(ev.data)); break;
        case EventType::context_step: group.contexts[ev.target]->on_step(now_ns_, ev.data); break;
        case EventType::vcpu_done: vcpus_->on_done(group.vcpus[ev.target], now_ns_); break;
        }
    }
}

ReplicationResult Simulation::run() {
    workload_->start(*this);
    for (auto& c : contexts_) c->start(0);
    running_ = true;
    int64_t events = 0;
    for (size_t q = 0; q < groups_.size(); ++q) run_group(q, events);
    ReplicationResult result;
    result.window = window_;
    result.events = events;
    result.event_queues = queue_count();
    result.skipped_records = skipped_;
    result.requests_refused = refused_;
    result.requests_deferred = deferred_;
    result.guest_vcpus = vcpus_ != nullptr;
    for (auto& c : contexts_) {
        c->finish(window_.end_ns);
        result.contexts.push_back(c->stats());
    }
    return result;
}

ReplicationResult run_replication(const Config& config, int replication, RequestObserver* observer) {
    Simulation sim(config, replication, observer);
    return sim.run();
}

}  // namespace pollsim
