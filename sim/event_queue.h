// The virtual clock's event queue. Ties on time break by priority class
// (arrivals and completions before event-loop steps, so work that exists at
// instant t is visible to a spin ending at t) and then by insertion order,
// which makes every run deterministic.
//
// Event-loop steps do not go through the heap: a context has at most one
// live step (a new one supersedes the old), so each context owns a slot and
// a tournament tree over the slots yields the earliest. The heap holds only
// completions and timers, and a superseded step costs nothing instead of
// being popped as a no-op later. A guest vCPU (guest-vcpus) also has at
// most one pending event, so vCPUs get slots of their own.
#pragma once
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

namespace pollsim {

enum class EventType : uint8_t { workload_timer, backend_done, context_step, vcpu_done };

struct Event {
    int64_t t_ns;
    uint64_t seq;     // insertion order
    uint64_t data;    // cookie, generation, ...
    int32_t target;   // request id, context index, ...
    EventType type;
};

// One live step per context, the earliest found by a tournament tree: each
// inner node holds the key and context of the earlier of its two children,
// so replacing a slot re-plays only its path to the root (log2 contexts),
// carrying the winner up in registers with no branch to mispredict. A step
// taken out is cleared lazily: its context usually schedules its next step
// while handling it, and then one re-play does for both.
class StepSlots {
public:
    void resize(int contexts) {
        leaves_ = 1;
        while (leaves_ < contexts) leaves_ *= 2;
        nodes_.assign(2 * static_cast<size_t>(leaves_), Node{});
        for (int c = 0; c < leaves_; ++c) nodes_[static_cast<size_t>(leaves_ + c)].ctx = c;
        data_.assign(static_cast<size_t>(leaves_), 0);
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
        return static_cast<int64_t>(nodes_[1].key >> 64);
    }
    // The earliest (time, seq); only after top_ns() and when it is not INT64_MAX.
    uint64_t top_seq() const { return static_cast<uint64_t>(nodes_[1].key); }
    // The context whose step would come first if the one taken out were not
    // replaced, -1 if none: a hint, read without settling the tree. The
    // siblings on the taken slot's path hold the winners of everything else.
    int runner_up() const {
        if (taken_ < 0) return nodes_[1].key == kEmpty ? -1 : nodes_[1].ctx;
        Packed best = kEmpty;
        int32_t who = -1;
        for (size_t i = static_cast<size_t>(leaves_) + static_cast<size_t>(taken_); i > 1; i /= 2) {
            const Node& sibling = nodes_[i ^ 1];
            const bool better = sibling.key < best;
            best = better ? sibling.key : best;
            who = better ? sibling.ctx : who;
        }
        return who;
    }
    // The earliest step, taken out of its slot.
    Event pop() {
        settle();
        const Node& root = nodes_[1];
        taken_ = root.ctx;
        return Event{static_cast<int64_t>(root.key >> 64), static_cast<uint64_t>(root.key), data_[root.ctx],
                     root.ctx, EventType::context_step};
    }

private:
    // (time, seq) as one unsigned 128-bit number: times are >= 0, so its
    // order is the lexicographic one, in a single comparison. Keys of live
    // steps are unique (seq is), so ties are only between empty slots.
    using Packed = unsigned __int128;
    static constexpr Packed kEmpty = ~Packed{0} >> 1;  // time INT64_MAX
    struct Node {
        Packed key = kEmpty;
        int32_t ctx = 0;
    };
    // Clears the slot of a step taken out and not replaced.
    void settle() {
        if (taken_ < 0) return;
        const int ctx = taken_;
        taken_ = -1;
        replay(ctx, kEmpty);
    }
    void replay(int ctx, Packed key) {
        size_t i = static_cast<size_t>(leaves_) + static_cast<size_t>(ctx);
        int32_t winner = ctx;
        nodes_[i].key = key;
        for (; i > 1; i /= 2) {
            const Node& sibling = nodes_[i ^ 1];
            // A select, not a branch: which side wins is a coin toss.
            const bool sibling_wins = sibling.key < key;
            const int32_t mask = -static_cast<int32_t>(sibling_wins);
            key = sibling_wins ? sibling.key : key;
            winner ^= (winner ^ sibling.ctx) & mask;
            nodes_[i / 2].key = key;
            nodes_[i / 2].ctx = winner;
        }
    }

    int leaves_ = 1;                  // a power of two; with one leaf, nodes_[1] is leaf and root
    std::vector<Node> nodes_ = std::vector<Node>(2);  // [1, leaves_): inner nodes; [leaves_, 2 leaves_): the slots
    std::vector<uint64_t> data_ = std::vector<uint64_t>(1);
    int taken_ = -1;                  // context whose step was taken out and whose slot still holds it
};

// An allocator of cache-line aligned storage, for arrays laid out by line.
template <class T>
struct CacheAligned {
    using value_type = T;
    static constexpr std::align_val_t kAlign{64};
    CacheAligned() = default;
    template <class U>
    CacheAligned(const CacheAligned<U>&) {}
    T* allocate(size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
    void deallocate(T* p, size_t) { ::operator delete(p, kAlign); }  // unsized: clang has no sized delete by default
    template <class U>
    bool operator==(const CacheAligned<U>&) const { return true; }
};

// Completions and timers: a binary min-heap on (time, seq) keys packed in
// 128 bits (the event's type rides in the low bits, below the seq). A pop
// moves the hole down to a leaf choosing the earlier child by index
// arithmetic, not by a branch (which child is earlier is a coin toss and
// mispredicts half the time), then lets the last item rise into place.
class TimedHeap {
public:
    bool empty() const { return items_.size() == 1; }
    int64_t top_ns() const { return static_cast<int64_t>(items_[1].key >> 64); }
    // The top's type and the upper half of its data (for a hint; not empty).
    EventType top_type() const { return static_cast<EventType>(static_cast<uint64_t>(items_[1].key) & kTypeMask); }
    uint32_t top_data_high() const { return static_cast<uint32_t>(items_[1].data >> 32); }
    uint64_t top_seq() const { return static_cast<uint64_t>(items_[1].key) >> kTypeBits; }
    void push(int64_t t_ns, uint64_t seq, EventType type, uint64_t data) {
        const Item item{(static_cast<Packed>(t_ns) << 64) | (seq << kTypeBits) | static_cast<uint64_t>(type), data};
        items_.push_back(item);
        rise(items_.size() - 1, item);
    }
    Event pop() {
        const Item top = items_[1];
        const Item last = items_.back();
        items_.pop_back();
        const size_t n = items_.size() - 1;  // items left, at [1, n]
        if (n > 0) {
            size_t i = 1;
            size_t c = 2;
            for (; c < n; c = 2 * i) {
                // Both pairs the hole may move to next, fetched before this
                // comparison decides: each level's load no longer waits for
                // the one before it.
                prefetch(2 * c);
                prefetch(2 * c + 2);
                c += static_cast<size_t>(items_[c + 1].key < items_[c].key);
                items_[i] = items_[c];
                i = c;
            }
            if (c == n) {  // a lone last child
                items_[i] = items_[c];
                i = c;
            }
            rise(i, last);
        }
        const auto seq_type = static_cast<uint64_t>(top.key);
        const auto type = static_cast<EventType>(seq_type & kTypeMask);
        const uint64_t data = type == EventType::workload_timer ? top.data : top.data >> 32;
        return Event{static_cast<int64_t>(top.key >> 64), seq_type >> kTypeBits, data,
                     static_cast<int32_t>(static_cast<uint32_t>(top.data)), type};
    }

private:
    using Packed = unsigned __int128;
    // The event's type in the low bits of the key, below the seq.
    static constexpr int kTypeBits = 2;
    static constexpr uint64_t kTypeMask = (1u << kTypeBits) - 1;
    static_assert(static_cast<uint64_t>(EventType::vcpu_done) <= kTypeMask, "EventType must fit in kTypeBits");
    struct Item {
        Packed key;
        uint64_t data;
    };
    // A hint only: the address may lie past the end (integer arithmetic, so
    // no out-of-range pointer is formed; a prefetch never faults).
    void prefetch(size_t i) const {
        __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(items_.data()) + i * sizeof(Item)));
    }
    // Places `item` at hole i or above it.
    void rise(size_t i, const Item& item) {
        while (i > 1) {
            const size_t parent = i / 2;
            if (!(item.key < items_[parent].key)) break;
            items_[i] = items_[parent];
            i = parent;
        }
        items_[i] = item;
    }
    // 1-based (items_[0] is unused), in 64-byte aligned storage: two
    // siblings, compared at every level of a pop, share one cache line.
    std::vector<Item, CacheAligned<Item>> items_ = std::vector<Item, CacheAligned<Item>>(1);
};

class EventQueue {
public:
    explicit EventQueue(int contexts = 1, int vcpus = 0) : has_vcpus_(vcpus > 0) {
        steps_.resize(contexts);
        if (has_vcpus_) vcpus_.resize(vcpus);
    }

    // A completion or timer (class 0). workload_timer carries its cookie as
    // `data`; the others a `target` (backend_done: the request id) and a
    // 32-bit `data` (backend_done: the request's virtqueue), both in the
    // heap item. vCPU events go through set_vcpu_done().
    void push(int64_t t_ns, EventType type, int32_t target, uint64_t data) {
        heap_.push(t_ns, seq_++, type,
                   type == EventType::workload_timer ? data : (data << 32) | static_cast<uint32_t>(target));
    }
    // vCPU `vcpu`'s next completion done (class 0, like the heap's events).
    // A vCPU has at most one pending, so it lives in a slot, as a step does,
    // and the heap stays the completions' and timers' alone.
    void set_vcpu_done(int vcpu, int64_t t_ns) { vcpus_.set(vcpu, t_ns, seq_++, 0); }
    // Context `ctx`'s next step (class 1), superseding its previous one.
    void set_step(int ctx, int64_t t_ns, uint64_t data) { steps_.set(ctx, t_ns, seq_++, data); }
    void cancel_step(int ctx) { steps_.clear(ctx); }

    // Hints for a prefetch, read after a pop: the context that has the next
    // step if the popped one is not replaced (-1: none), and the virtqueue
    // of the heap's next service end (-1: none).
    int next_step_context() const { return steps_.runner_up(); }
    int next_backend_vq() const {
        return !heap_.empty() && heap_.top_type() == EventType::backend_done ? static_cast<int>(heap_.top_data_high()) : -1;
    }

    // Takes the next event into `out` if it is due before end_ns.
    bool pop_before(int64_t end_ns, Event& out) {
        const int64_t step_ns = steps_.top_ns();  // INT64_MAX: no step
        const int64_t vcpu_ns = has_vcpus_ ? vcpus_.top_ns() : kNone;
        if (vcpu_ns != kNone && vcpu_before_heap(vcpu_ns)) {
            // At equal times a class-0 event goes before a step.
            if (vcpu_ns <= step_ns) {
                if (vcpu_ns >= end_ns) return false;
                out = vcpus_.pop();
                out.type = EventType::vcpu_done;
                return true;
            }
        } else if (!heap_.empty() && heap_.top_ns() <= step_ns) {
            if (heap_.top_ns() >= end_ns) return false;
            out = heap_.pop();
            return true;
        }
        if (step_ns >= end_ns) return false;
        out = steps_.pop();
        return true;
    }

private:
    static constexpr int64_t kNone = std::numeric_limits<int64_t>::max();  // an empty slot tree's top_ns()
    // Whether the earliest vCPU event (at vcpu_ns) goes before the heap's
    // top: by (time, seq), the order they would have had in one heap.
    bool vcpu_before_heap(int64_t vcpu_ns) const {
        if (heap_.empty()) return true;
        const int64_t heap_ns = heap_.top_ns();
        return vcpu_ns != heap_ns ? vcpu_ns < heap_ns : vcpus_.top_seq() < heap_.top_seq();
    }

    TimedHeap heap_;
    StepSlots steps_;
    StepSlots vcpus_;  // guest-vcpus only: one slot per vCPU
    bool has_vcpus_ = false;
    uint64_t seq_ = 0;
};

}  // namespace pollsim
