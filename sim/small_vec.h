// A vector of trivially copyable items with room for N of them inside the
// object itself, and on the heap beyond that. An AioContext's small lists
// (its poll list, the handlers to dispatch, the requests a dispatch took)
// then sit on the context's own cache lines: with many IOThreads every
// separate allocation is one more line the context has lost from L1 by the
// time its next event comes.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <type_traits>

namespace pollsim {

template <class T, size_t N>
class SmallVec {
    static_assert(std::is_trivially_copyable_v<T>, "SmallVec copies its items as bytes");

public:
    using value_type = T;
    SmallVec() = default;
    SmallVec(const SmallVec& other) { assign(other.begin(), other.end()); }
    SmallVec& operator=(const SmallVec& other) {
        if (this != &other) assign(other.begin(), other.end());
        return *this;
    }
    ~SmallVec() { release(); }

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    T* data() { return data_; }
    const T* data() const { return data_; }
    T* begin() { return data_; }
    T* end() { return data_ + size_; }
    const T* begin() const { return data_; }
    const T* end() const { return data_ + size_; }
    T& operator[](size_t i) { return data_[i]; }
    const T& operator[](size_t i) const { return data_[i]; }
    T& front() { return data_[0]; }
    const T& front() const { return data_[0]; }

    void clear() { size_ = 0; }
    void push_back(const T& v) {
        if (size_ == capacity_) grow(size_ + 1);
        data_[size_++] = v;
    }
    // Shrinks, or grows filling with `fill`.
    void resize(size_t n, const T& fill = T{}) {
        if (n > capacity_) grow(n);
        std::fill(data_ + std::min<size_t>(n, size_), data_ + n, fill);
        size_ = static_cast<uint32_t>(n);
    }
    void assign(size_t n, const T& v) {
        clear();
        resize(n, v);
    }
    template <std::input_iterator It>
    void assign(It first, It last) {
        clear();
        for (; first != last; ++first) push_back(*first);
    }

private:
    void grow(size_t at_least) {
        const size_t cap = std::max<size_t>(2 * size_t{capacity_}, at_least);
        T* bigger = new T[cap];
        std::copy(data_, data_ + size_, bigger);
        release();
        data_ = bigger;
        capacity_ = static_cast<uint32_t>(cap);
    }
    // Frees the heap items, if any (data_ owns them when it is not inline_).
    void release() {
        if (data_ != inline_) delete[] data_;
    }

    T inline_[N] = {};   // first: data_ is initialized from it
    T* data_ = inline_;  // inline_ until the items outgrow it, then the heap
    uint32_t size_ = 0;
    uint32_t capacity_ = N;
};

}  // namespace pollsim
