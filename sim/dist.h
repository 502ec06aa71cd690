// Time distributions for costs, service times and think times: a constant or
// {dist: exponential|lognormal|uniform|empirical, ...}. All samples are int64 ns.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sim/rng.h"

namespace YAML { class Node; }

namespace pollsim {

class Dist {
public:
    enum class Kind { constant, exponential, lognormal, uniform, empirical };

    Dist() = default;
    static Dist constant(int64_t ns);
    static Dist exponential(double mean_ns);
    static Dist lognormal(double mean_ns, double cv);
    static Dist uniform(int64_t lo_ns, int64_t hi_ns);
    static Dist empirical(std::vector<int64_t> samples_ns, std::string source);

    int64_t sample(Rng& rng) const {
        if (kind_ == Kind::constant) return const_ns_;
        return sample_slow(rng);
    }
    bool is_constant() const { return kind_ == Kind::constant; }
    int64_t constant_ns() const { return const_ns_; }
    double mean_ns() const;
    Kind kind() const { return kind_; }
    // Same distribution with its mean multiplied by f (shape kept).
    Dist scaled(double f) const;

    // YAML: a scalar duration ("250ns", "3us", 1200) or a map. `file` is the
    // YAML file (messages; empirical sample files resolve beside it).
    // Throws InputError naming file, line and key.
    static Dist from_yaml(const YAML::Node& node, const std::string& what,
                          const std::string& file);
    // Round-trips through from_yaml; used for the resolved config in reports.
    nlohmann::ordered_json to_json() const;

private:
    int64_t sample_slow(Rng& rng) const;
    Kind kind_ = Kind::constant;
    int64_t const_ns_ = 0;
    double a_ = 0, b_ = 0;          // exponential: mean; lognormal: mu, sigma; uniform: lo, hi
    double mean_ = 0, cv_ = 0;      // as given, for describe()
    std::shared_ptr<const std::vector<int64_t>> samples_;
    std::string source_;
};

// "250ns", "3us", "1.5ms", "2s", or a bare integer of nanoseconds.
// Throws std::invalid_argument on anything else (negative included).
int64_t parse_duration_ns(const std::string& text);
std::string format_duration(int64_t ns);

}  // namespace pollsim
