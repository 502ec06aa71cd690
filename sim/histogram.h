// Streaming histograms: memory fixed, independent of run length.
#pragma once
#include <array>
#include <bit>
#include <cstdint>
#include <vector>

namespace pollsim {

// Log-linear histogram of non-negative int64 values (latencies): values below
// 2^kSubBits are exact; above, each power of two is split into 2^kSubBits
// linear sub-buckets, so a reported quantile is within 1/2^kSubBits (0.8 %)
// of the true value. Quantiles are bucket midpoints.
class LogLinearHistogram {
public:
    static constexpr int kSubBits = 7;
    static constexpr int kSub = 1 << kSubBits;
    static constexpr int kBuckets = (64 - kSubBits) * kSub;

    LogLinearHistogram() : counts_(kBuckets, 0) {}

    static int index_of(int64_t v) {
        const auto u = static_cast<uint64_t>(v < 0 ? 0 : v);
        if (u < static_cast<uint64_t>(kSub)) return static_cast<int>(u);
        const int e = 63 - std::countl_zero(u);  // e >= kSubBits
        const int shift = e - kSubBits;
        return (shift + 1) * kSub + static_cast<int>((u >> shift) - kSub);
    }
    static int64_t lower_bound(int i) {
        if (i < kSub) return i;
        const int shift = i / kSub - 1;
        return (static_cast<int64_t>(kSub) + i % kSub) << shift;
    }
    static int64_t upper_bound(int i) {  // exclusive
        if (i < kSub) return i + 1;
        const int shift = i / kSub - 1;
        return lower_bound(i) + (int64_t{1} << shift);
    }

    void add(int64_t v) {
        ++counts_[index_of(v)];
        ++count_;
        sum_ += static_cast<double>(v);
    }
    void merge(const LogLinearHistogram& o) {
        for (int i = 0; i < kBuckets; ++i) counts_[i] += o.counts_[i];
        count_ += o.count_;
        sum_ += o.sum_;
    }
    int64_t count() const { return count_; }
    double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
    // q in [0, 1]; the value below which a fraction q of samples lie.
    double quantile(double q) const {
        if (count_ == 0) return 0.0;
        const double target = q * static_cast<double>(count_);
        int64_t seen = 0;
        for (int i = 0; i < kBuckets; ++i) {
            seen += counts_[i];
            if (static_cast<double>(seen) >= target && counts_[i] > 0) {
                if (i < kSub) return static_cast<double>(i);
                return (static_cast<double>(lower_bound(i)) + static_cast<double>(upper_bound(i) - 1)) / 2.0;
            }
        }
        return static_cast<double>(lower_bound(kBuckets - 1));
    }

private:
    std::vector<int64_t> counts_;
    int64_t count_ = 0;
    double sum_ = 0;
};

// Power-of-two buckets as in DESIGN §7: bucket 0 holds 0, bucket i >= 1
// holds [2^(i-1), 2^i). Each bucket counts iterations and accumulates time.
class Pow2Histogram {
public:
    static constexpr int kBuckets = 65;
    static int index_of(int64_t v) { return v <= 0 ? 0 : 64 - std::countl_zero(static_cast<uint64_t>(v)); }
    static int64_t lo(int i) { return i == 0 ? 0 : int64_t{1} << (i - 1); }
    static int64_t hi(int i) { return i == 0 ? 1 : (i >= 64 ? INT64_MAX : int64_t{1} << i); }

    void add_iteration(int64_t v) { ++buckets_[index_of(v)].iterations; }
    void add_time(int64_t v, int64_t ns) { buckets_[index_of(v)].time_ns += ns; }
    int64_t iterations(int i) const { return buckets_[i].iterations; }
    int64_t time_ns(int i) const { return buckets_[i].time_ns; }
    void merge(const Pow2Histogram& o) {
        for (int i = 0; i < kBuckets; ++i) {
            buckets_[i].iterations += o.buckets_[i].iterations;
            buckets_[i].time_ns += o.buckets_[i].time_ns;
        }
    }

private:
    // A bucket's two counts side by side: an iteration adds to both of one
    // bucket, in one cache line. Line-aligned, so that four neighbouring
    // buckets (one octave of poll times, say 4-32 us) share one line.
    struct Bucket {
        int64_t iterations = 0;
        int64_t time_ns = 0;
    };
    alignas(64) std::array<Bucket, kBuckets> buckets_{};
};

}  // namespace pollsim
