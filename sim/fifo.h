// A growable ring buffer: FIFO queues of request ids without per-push
// allocation once warmed up (std::deque allocates in blocks as it moves).
//
// With N > 0 the first N items live inside the object. A handler's queue
// of pending requests is then on the handler's own cache line, which its
// dispatch reads anyway: with many IOThreads a separate buffer would be one
// more line out of L1 at every submission and every dispatch. A queue that
// outgrows them moves to the heap, and back inside when it empties again.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>

namespace pollsim {

template <typename T, size_t N = 0>
class Fifo {
    static_assert((N & (N - 1)) == 0, "the inline capacity is a power of two (or 0)");

public:
    Fifo() = default;
    Fifo(const Fifo& other) { copy_from(other); }
    Fifo& operator=(const Fifo& other) {
        if (this != &other) {
            release();
            copy_from(other);
        }
        return *this;
    }
    ~Fifo() { release(); }

    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    const T& front() const { return data_[head_]; }
    void push(const T& v) {
        if (size_ == capacity_) grow();
        data_[(head_ + size_) & (capacity_ - 1)] = v;
        ++size_;
    }
    T pop() {
        T v = data_[head_];
        head_ = (head_ + 1) & (capacity_ - 1);
        if (--size_ == 0 && N > 0 && data_ != inline_.data()) release();
        return v;
    }

private:
    void grow() {
        const uint32_t capacity = capacity_ == 0 ? 16 : 2 * capacity_;
        T* next = new T[capacity];
        for (uint32_t i = 0; i < size_; ++i) next[i] = data_[(head_ + i) & (capacity_ - 1)];
        if (data_ != inline_.data()) delete[] data_;
        data_ = next;
        capacity_ = capacity;
        head_ = 0;
    }
    // Back to the inline items (none if N is 0), empty.
    void release() {
        if (data_ != inline_.data()) delete[] data_;
        data_ = inline_.data();
        capacity_ = N;
        head_ = size_ = 0;
    }
    void copy_from(const Fifo& other) {
        for (uint32_t i = 0; i < other.size_; ++i) push(other.data_[(other.head_ + i) & (other.capacity_ - 1)]);
    }

    std::array<T, N> inline_{};  // first: data_ is initialized from it
    T* data_ = inline_.data();   // inline_ (no items if N is 0), or the heap
    uint32_t head_ = 0, size_ = 0, capacity_ = N;
};

}  // namespace pollsim
