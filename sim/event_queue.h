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
// inner node holds the context of the earlier of its two children, so
// replacing a slot re-plays only its path to the root (log2 contexts), with
// no branch to mispredict. A step taken out is cleared lazily: its context
// usually schedules its next step while handling it, and then one re-play
// does for both.
class StepSlots {
public:
    void resize(int contexts) {
        leaves_ = 1;
        while (leaves_ < contexts) leaves_ *= 2;
        keys_.assign(static_cast<size_t>(leaves_), kEmpty);
        data_.assign(static_cast<size_t>(leaves_), 0);
        winner_.assign(2 * static_cast<size_t>(leaves_), 0);
        for (int c = 0; c < leaves_; ++c) winner_[static_cast<size_t>(leaves_ + c)] = c;
        taken_ = -1;
    }
    void set(int ctx, int64_t t_ns, uint64_t seq, uint64_t data) {
        data_[ctx] = data;
        if (ctx == taken_) taken_ = -1;
        replay(ctx, (static_cast<Packed>(t_ns) << 64) | seq);
    }
    void clear(int ctx) {
        if (ctx == taken_) taken_ = -1;
        replay(ctx, kEmpty);
    }
    // INT64_MAX when no context has a step.
    int64_t top_ns() {
        settle();
        return static_cast<int64_t>(keys_[winner_[1]] >> 64);
    }
    // The earliest step, taken out of its slot.
    Event pop() {
        settle();
        const int ctx = winner_[1];
        taken_ = ctx;
        return Event{static_cast<int64_t>(keys_[ctx] >> 64), static_cast<uint64_t>(keys_[ctx]), data_[ctx], ctx,
                     EventType::context_step};
    }

private:
    // (time, seq) as one unsigned 128-bit number: times are >= 0, so its
    // order is the lexicographic one, in a single comparison.
    using Packed = unsigned __int128;
    static constexpr Packed kEmpty = ~Packed{0} >> 1;  // time INT64_MAX
    // Clears the slot of a step taken out and not replaced.
    void settle() {
        if (taken_ < 0) return;
        const int ctx = taken_;
        taken_ = -1;
        replay(ctx, kEmpty);
    }
    void replay(int ctx, Packed key) {
        keys_[ctx] = key;
        for (size_t i = (static_cast<size_t>(leaves_) + static_cast<size_t>(ctx)) / 2; i >= 1; i /= 2) {
            const int l = winner_[2 * i];
            const int r = winner_[2 * i + 1];
            // A select, not a branch: which child wins is a coin toss.
            const int right_wins = -static_cast<int>(keys_[r] < keys_[l]);
            winner_[i] = l ^ ((l ^ r) & right_wins);
        }
    }

    int leaves_ = 1;                  // a power of two; with one leaf, winner_[1] is the leaf
    std::vector<Packed> keys_ = std::vector<Packed>(1, kEmpty);  // per context
    std::vector<uint64_t> data_ = std::vector<uint64_t>(1);
    std::vector<int> winner_ = std::vector<int>(2, 0);  // [1, leaves_): inner nodes; [leaves_, 2 leaves_): the leaves
    int taken_ = -1;                  // context whose step was taken out and whose slot still holds it
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
        const int64_t step_ns = steps_.top_ns();  // INT64_MAX: no step
        // At equal times a completion or timer goes before a step.
        if (!heap_.empty() && heap_.top().t_ns <= step_ns) {
            if (heap_.top().t_ns >= end_ns) return false;
            out = heap_.top();
            heap_.pop();
            return true;
        }
        if (step_ns >= end_ns) return false;
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
