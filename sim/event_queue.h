// The virtual clock's event queue. Ties on time break by priority class
// (arrivals and completions before event-loop steps, so work that exists at
// instant t is visible to a spin ending at t) and then by insertion order,
// which makes every run deterministic.
#pragma once
#include <cstdint>
#include <queue>
#include <vector>

namespace pollsim {

enum class EventType : uint8_t { workload_timer, backend_done, context_step, vcpu_done };

struct Event {
    int64_t t_ns;
    uint64_t seq;     // insertion order
    uint64_t data;    // cookie, generation, ...
    int32_t target;   // request id, context index, ...
    EventType type;
    uint8_t prio;     // 0: arrivals/completions, 1: event-loop steps
};

class EventQueue {
public:
    void push(int64_t t_ns, EventType type, int32_t target, uint64_t data) {
        const uint8_t prio = type == EventType::context_step ? 1 : 0;
        heap_.push(Event{t_ns, seq_++, data, target, type, prio});
    }
    bool empty() const { return heap_.empty(); }
    const Event& top() const { return heap_.top(); }
    void pop() { heap_.pop(); }
    size_t size() const { return heap_.size(); }

private:
    struct Later {
        bool operator()(const Event& a, const Event& b) const {
            if (a.t_ns != b.t_ns) return a.t_ns > b.t_ns;
            if (a.prio != b.prio) return a.prio > b.prio;
            return a.seq > b.seq;
        }
    };
    std::priority_queue<Event, std::vector<Event>, Later> heap_;
    uint64_t seq_ = 0;
};

}  // namespace pollsim
