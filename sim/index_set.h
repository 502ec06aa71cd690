// A set of small non-negative integers (handler indices) visited in
// increasing order: a bitmap under a summary bitmap of its non-empty words,
// so that visiting the few members of a large set skips its empty words.
#pragma once
#include <bit>
#include <cstdint>
#include <vector>

namespace pollsim {

class IndexSet {
public:
    explicit IndexSet(int capacity = 0) { resize(capacity); }
    void resize(int capacity) {
        const size_t words = (static_cast<size_t>(capacity) + 63) / 64;
        words_.assign(words, 0);
        summary_.assign((words + 63) / 64, 0);
    }
    void insert(int i) {
        const size_t w = static_cast<size_t>(i) / 64;
        words_[w] |= uint64_t{1} << (i % 64);
        summary_[w / 64] |= uint64_t{1} << (w % 64);
    }
    void erase(int i) {
        const size_t w = static_cast<size_t>(i) / 64;
        words_[w] &= ~(uint64_t{1} << (i % 64));
        if (!words_[w]) summary_[w / 64] &= ~(uint64_t{1} << (w % 64));
    }
    void set(int i, bool member) {
        if (member) insert(i);
        else erase(i);
    }
    // Calls f(i) for each member in increasing order until f returns true;
    // returns whether one did.
    template <class F>
    bool find_if(F f) const {
        for (size_t s = 0; s < summary_.size(); ++s) {
            for (uint64_t sbits = summary_[s]; sbits; sbits &= sbits - 1) {
                const size_t w = s * 64 + static_cast<size_t>(std::countr_zero(sbits));
                for (uint64_t bits = words_[w]; bits; bits &= bits - 1)
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
    std::vector<uint64_t> words_;
    std::vector<uint64_t> summary_;  // bit w: words_[w] is not empty
};

}  // namespace pollsim
