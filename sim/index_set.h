// A set of small non-negative integers (handler indices) visited in
// increasing order: a bitmap under a summary bitmap of its non-empty words,
// so that visiting the few members of a large set skips its empty words.
#pragma once
#include <bit>
#include <cstdint>

#include "sim/small_vec.h"

namespace pollsim {

class IndexSet {
public:
    explicit IndexSet(int capacity = 0) { resize(capacity); }
    void resize(int capacity) {
        const size_t words = (static_cast<size_t>(capacity) + 63) / 64;
        summary_words_ = (words + 63) / 64;
        bits_.assign(summary_words_ + words, 0);
    }
    void insert(int i) {
        const size_t w = static_cast<size_t>(i) / 64;
        word(w) |= uint64_t{1} << (i % 64);
        bits_[w / 64] |= uint64_t{1} << (w % 64);
    }
    void erase(int i) {
        const size_t w = static_cast<size_t>(i) / 64;
        word(w) &= ~(uint64_t{1} << (i % 64));
        if (!word(w)) bits_[w / 64] &= ~(uint64_t{1} << (w % 64));
    }
    void set(int i, bool member) {
        if (member) insert(i);
        else erase(i);
    }
    // Calls f(i) for each member in increasing order until f returns true;
    // returns whether one did.
    template <class F>
    bool find_if(F f) const {
        for (size_t s = 0; s < summary_words_; ++s) {
            for (uint64_t sbits = bits_[s]; sbits; sbits &= sbits - 1) {
                const size_t w = s * 64 + static_cast<size_t>(std::countr_zero(sbits));
                for (uint64_t bits = word(w); bits; bits &= bits - 1)
                    if (f(static_cast<int>(w * 64 + static_cast<size_t>(std::countr_zero(bits))))) return true;
            }
        }
        return false;
    }
    template <class F>
    void for_each(F f) const {
        find_if([&](int i) {
            f(i);
            return false;
        });
    }

private:
    uint64_t& word(size_t w) { return bits_[summary_words_ + w]; }
    uint64_t word(size_t w) const { return bits_[summary_words_ + w]; }
    // The summary words (bit w: word w is not empty), then the words, in one
    // array; a set of up to 64 members (one summary word, one word) is held
    // inside the object, with no allocation of its own.
    SmallVec<uint64_t, 2> bits_;
    size_t summary_words_ = 0;
};

}  // namespace pollsim
