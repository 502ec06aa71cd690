// The virtual clock's event queue. Ties on time break by priority class
// (arrivals and completions before event-loop steps, so work that exists at
// instant t is visible to a spin ending at t) and then by insertion order,
// which makes every run deterministic.
//
// Event-loop steps do not go through the heap: a context has at most one
// live step (a new one supersedes the old), so each context owns a slot and
// a tournament tree over the slots yields the earliest. The heap holds only
// completions and timers, and a superseded step costs nothing instead of
// being popped as a no-op later.
#pragma once
#include <cstdint>
#include <limits>
#include <queue>
#include <vector>

namespace pollsim {

enum class EventType : uint8_t { workload_timer, backend_done, context_step };

struct Event {
    int64_t t_ns;
    uint64_t seq;     // insertion order
    uint64_t data;    // cookie, generation, ...
    int32_t target;   // request id, context index, ...
    EventType type;
};

// One live step per context, the earliest found by a tournament tree: each
// inner node holds the (time, seq) key of the earlier of its two children,
// so replacing a slot re-plays only its path to the root (log2 contexts).
class StepSlots {
public:
    void resize(int contexts) {
        leaves_ = 1;
        while (leaves_ < contexts) leaves_ *= 2;
        nodes_.assign(2 * static_cast<size_t>(leaves_), Key{});
        data_.assign(static_cast<size_t>(leaves_), 0);
    }
    void set(int ctx, int64_t t_ns, uint64_t seq, uint64_t data) {
        data_[ctx] = data;
        replay(ctx, Key{t_ns, seq, ctx});
    }
    void clear(int ctx) { replay(ctx, Key{}); }
    bool empty() const { return root().t_ns == kNone; }
    int64_t top_ns() const { return root().t_ns; }
    // The earliest step, taken out of its slot.
    Event pop() {
        const Key k = root();
        clear(k.ctx);
        return Event{k.t_ns, k.seq, data_[k.ctx], k.ctx, EventType::context_step};
    }

private:
    static constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
    struct Key {
        int64_t t_ns = kNone;
        uint64_t seq = std::numeric_limits<uint64_t>::max();
        int32_t ctx = 0;
        bool before(const Key& o) const { return t_ns != o.t_ns ? t_ns < o.t_ns : seq < o.seq; }
    };
    const Key& root() const { return nodes_[1]; }
    void replay(int ctx, const Key& key) {
        size_t i = static_cast<size_t>(leaves_) + static_cast<size_t>(ctx);
        nodes_[i] = key;
        for (i /= 2; i >= 1; i /= 2) {
            const Key& l = nodes_[2 * i];
            const Key& r = nodes_[2 * i + 1];
            nodes_[i] = r.before(l) ? r : l;
        }
    }

    int leaves_ = 1;             // a power of two; with one leaf, nodes_[1] is leaf and root
    std::vector<Key> nodes_ = std::vector<Key>(2);
    std::vector<uint64_t> data_ = std::vector<uint64_t>(1);
};

class EventQueue {
public:
    explicit EventQueue(int contexts = 1) { steps_.resize(contexts); }

    // A completion or timer (class 0).
    void push(int64_t t_ns, EventType type, int32_t target, uint64_t data) {
        heap_.push(Event{t_ns, seq_++, data, target, type});
    }
    // Context `ctx`'s next step (class 1), superseding its previous one.
    void set_step(int ctx, int64_t t_ns, uint64_t data) { steps_.set(ctx, t_ns, seq_++, data); }
    void cancel_step(int ctx) { steps_.clear(ctx); }

    // Takes the next event into `out` if it is due before end_ns.
    bool pop_before(int64_t end_ns, Event& out) {
        // At equal times a completion or timer goes before a step.
        if (!heap_.empty() && (steps_.empty() || heap_.top().t_ns <= steps_.top_ns())) {
            if (heap_.top().t_ns >= end_ns) return false;
            out = heap_.top();
            heap_.pop();
            return true;
        }
        if (steps_.empty() || steps_.top_ns() >= end_ns) return false;
        out = steps_.pop();
        return true;
    }

private:
    struct Later {
        bool operator()(const Event& a, const Event& b) const {
            if (a.t_ns != b.t_ns) return a.t_ns > b.t_ns;
            return a.seq > b.seq;
        }
    };
    std::priority_queue<Event, std::vector<Event>, Later> heap_;
    StepSlots steps_;
    uint64_t seq_ = 0;
};

}  // namespace pollsim
