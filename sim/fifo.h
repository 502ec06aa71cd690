// A growable ring buffer: FIFO queues of request ids without per-push
// allocation once warmed up (std::deque allocates in blocks as it moves).
#pragma once
#include <cstddef>
#include <vector>

namespace pollsim {

template <typename T>
class Fifo {
public:
    bool empty() const { return size_ == 0; }
    size_t size() const { return size_; }
    const T& front() const { return buf_[head_]; }
    void push(const T& v) {
        if (size_ == buf_.size()) grow();
        buf_[(head_ + size_) & (buf_.size() - 1)] = v;
        ++size_;
    }
    T pop() {
        T v = buf_[head_];
        head_ = (head_ + 1) & (buf_.size() - 1);
        --size_;
        return v;
    }

private:
    void grow() {
        std::vector<T> next(buf_.empty() ? 16 : buf_.size() * 2);
        for (size_t i = 0; i < size_; ++i) next[i] = buf_[(head_ + i) & (buf_.size() - 1)];
        buf_.swap(next);
        head_ = 0;
    }
    std::vector<T> buf_;
    size_t head_ = 0, size_ = 0;
};

}  // namespace pollsim
