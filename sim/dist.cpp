#include "sim/dist.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <yaml-cpp/yaml.h>

#include "sim/error.h"

namespace pollsim {

Dist Dist::constant(int64_t ns) {
    Dist d;
    d.kind_ = Kind::constant;
    d.const_ns_ = ns;
    d.mean_ = static_cast<double>(ns);
    return d;
}

Dist Dist::exponential(double mean_ns) {
    Dist d;
    d.kind_ = Kind::exponential;
    d.a_ = d.mean_ = mean_ns;
    d.cv_ = 1.0;
    return d;
}

// Parameterised by mean and coefficient of variation, which is how latency
// measurements are usually summarised: sigma^2 = ln(1 + cv^2), mu = ln(mean) - sigma^2/2.
Dist Dist::lognormal(double mean_ns, double cv) {
    Dist d;
    d.kind_ = Kind::lognormal;
    d.mean_ = mean_ns;
    d.cv_ = cv;
    const double s2 = std::log1p(cv * cv);
    d.a_ = std::log(mean_ns) - s2 / 2;
    d.b_ = std::sqrt(s2);
    return d;
}

Dist Dist::uniform(int64_t lo_ns, int64_t hi_ns) {
    Dist d;
    d.kind_ = Kind::uniform;
    d.a_ = static_cast<double>(lo_ns);
    d.b_ = static_cast<double>(hi_ns);
    d.mean_ = (d.a_ + d.b_) / 2;
    return d;
}

Dist Dist::empirical(std::vector<int64_t> samples_ns, std::string source) {
    Dist d;
    d.kind_ = Kind::empirical;
    double sum = 0;
    for (int64_t v : samples_ns) sum += static_cast<double>(v);
    d.mean_ = samples_ns.empty() ? 0 : sum / static_cast<double>(samples_ns.size());
    d.samples_ = std::make_shared<const std::vector<int64_t>>(std::move(samples_ns));
    d.source_ = std::move(source);
    return d;
}

int64_t Dist::sample_slow(Rng& rng) const {
    double v = 0;
    switch (kind_) {
    case Kind::constant: return const_ns_;
    case Kind::exponential: v = rng.exponential(a_); break;
    case Kind::lognormal: v = std::exp(a_ + b_ * rng.normal()); break;
    case Kind::uniform: v = a_ + (b_ - a_) * rng.uniform(); break;
    case Kind::empirical: return (*samples_)[rng.below(samples_->size())];
    }
    // Round half up by adding 0.5 and truncating: v is clamped to >= 0, where
    // this is llround() without its call (it showed in profiles).
    return static_cast<int64_t>(std::min(std::max(0.0, v), 4.6e18) + 0.5);
}

double Dist::mean_ns() const { return mean_; }

Dist Dist::scaled(double f) const {
    switch (kind_) {
    case Kind::constant: return constant(static_cast<int64_t>(std::llround(const_ns_ * f)));
    case Kind::exponential: return exponential(mean_ * f);
    case Kind::lognormal: return lognormal(mean_ * f, cv_);
    case Kind::uniform: return uniform(static_cast<int64_t>(a_ * f), static_cast<int64_t>(b_ * f));
    case Kind::empirical: {
        std::vector<int64_t> s(*samples_);
        for (auto& v : s) v = static_cast<int64_t>(std::llround(v * f));
        return empirical(std::move(s), source_);
    }
    }
    return *this;
}

nlohmann::ordered_json Dist::to_json() const {
    switch (kind_) {
    case Kind::constant: return const_ns_;
    case Kind::exponential: return {{"dist", "exponential"}, {"mean_ns", mean_}};
    case Kind::lognormal: return {{"dist", "lognormal"}, {"mean_ns", mean_}, {"cv", cv_}};
    case Kind::uniform: return {{"dist", "uniform"}, {"lo_ns", static_cast<int64_t>(a_)}, {"hi_ns", static_cast<int64_t>(b_)}};
    case Kind::empirical: return {{"dist", "empirical"}, {"file", source_}, {"samples", samples_->size()}, {"mean_ns", mean_}};
    }
    return nullptr;
}

namespace {

double positive_number(const YAML::Node& map, const char* key, const std::string& file, const std::string& what) {
    const YAML::Node v = map[key];
    if (!v) throw InputError(yaml_where(map, file, what) + ": missing '" + key + "'");
    double x;
    try {
        x = v.as<double>();
    } catch (const YAML::Exception&) {
        throw InputError(yaml_where(v, file, what + "." + key) + ": not a number");
    }
    if (!(x >= 0) || !std::isfinite(x)) throw InputError(yaml_where(v, file, what + "." + key) + ": must be a finite number >= 0");
    // Nanoseconds (and cv) become int64 samples: 1e300 used to run as INT64_MIN.
    if (x > 4.6e18) throw InputError(yaml_where(v, file, what + "." + key) + ": must be at most 4.6e18 (2^62 ns)");
    return x;
}

std::vector<int64_t> read_samples(const std::string& path, const std::string& where) {
    std::ifstream in(path);
    if (!in) throw InputError(where + ": cannot open empirical file '" + path + "'");
    std::vector<int64_t> out;
    std::string line;
    int lineno = 0;
    while (std::getline(in, line)) {
        ++lineno;
        const auto first = line.find_first_not_of(" \t\r");
        if (first == std::string::npos || line[first] == '#') continue;
        try {
            out.push_back(parse_duration_ns(line.substr(first, line.find_last_not_of(" \t\r") - first + 1)));
        } catch (const std::exception& e) {
            throw InputError(path + ":" + std::to_string(lineno) + ": " + e.what());
        }
    }
    if (out.empty()) throw InputError(where + ": empirical file '" + path + "' has no samples");
    return out;
}

}  // namespace

Dist Dist::from_yaml(const YAML::Node& node, const std::string& what, const std::string& file) {
    const std::string base_dir = std::filesystem::path(file).parent_path().string();
    if (node.IsScalar()) {
        try {
            return constant(parse_duration_ns(node.Scalar()));
        } catch (const std::exception& e) {
            throw InputError(yaml_where(node, file, what) + ": " + e.what());
        }
    }
    if (!node.IsMap()) throw InputError(yaml_where(node, file, what) + ": expected a duration or {dist: ...}");
    static const char* allowed[] = {"dist", "mean_ns", "cv", "lo_ns", "hi_ns", "file", "value_ns"};
    for (const auto& kv : node) {
        const std::string k = kv.first.Scalar();
        if (std::find(std::begin(allowed), std::end(allowed), k) == std::end(allowed))
            throw InputError(yaml_where(kv.first, file, what + "." + k) +
                             ": unknown key (valid: dist, mean_ns, cv, lo_ns, hi_ns, file, value_ns)");
    }
    const std::string kind = node["dist"] ? node["dist"].Scalar() : "";
    if (kind == "constant") return constant(static_cast<int64_t>(positive_number(node, "value_ns", file, what)));
    if (kind == "exponential") return exponential(positive_number(node, "mean_ns", file, what));
    if (kind == "lognormal") {
        const double mean = positive_number(node, "mean_ns", file, what);
        if (mean <= 0) throw InputError(yaml_where(node, file, what) + ": lognormal mean_ns must be > 0");
        return lognormal(mean, positive_number(node, "cv", file, what));
    }
    if (kind == "uniform") {
        const auto lo = static_cast<int64_t>(positive_number(node, "lo_ns", file, what));
        const auto hi = static_cast<int64_t>(positive_number(node, "hi_ns", file, what));
        if (hi < lo) throw InputError(yaml_where(node, file, what) + ": uniform needs lo_ns <= hi_ns");
        return uniform(lo, hi);
    }
    if (kind == "empirical") {
        if (!node["file"]) throw InputError(yaml_where(node, file, what) + ": empirical needs 'file'");
        std::string path = node["file"].Scalar();
        if (!path.empty() && path[0] != '/' && !base_dir.empty()) path = base_dir + "/" + path;
        return empirical(read_samples(path, yaml_where(node, file, what)), node["file"].Scalar());
    }
    throw InputError(yaml_where(node, file, what) +
                     ": 'dist' must be one of constant, exponential, lognormal, uniform, empirical");
}

int64_t parse_duration_ns(const std::string& text) {
    size_t pos = 0;
    double value;
    try {
        value = std::stod(text, &pos);
    } catch (const std::exception&) {
        throw std::invalid_argument("'" + text + "' is not a duration (integer ns, or a number with ns, us, ms, s)");
    }
    std::string unit = text.substr(pos);
    unit.erase(0, unit.find_first_not_of(' '));
    double scale;
    if (unit.empty() || unit == "ns") scale = 1;
    else if (unit == "us") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    else throw std::invalid_argument("'" + text + "': unknown unit '" + unit + "' (use ns, us, ms or s)");
    if (unit.empty() && text.find_first_of(".eE") != std::string::npos)
        throw std::invalid_argument("'" + text + "': a bare number must be an integer of nanoseconds");
    const double ns = value * scale;
    if (std::isnan(ns)) throw std::invalid_argument("'" + text + "': not a number");
    if (ns < 0) throw std::invalid_argument("'" + text + "': duration must be >= 0");
    if (ns > 9.2e18) throw std::invalid_argument("'" + text + "': duration must be at most 9.2e18 ns (about 292 years)");
    return static_cast<int64_t>(std::llround(ns));
}

std::string format_duration(int64_t ns) {
    char buf[64];
    if (ns >= 1000000000 && ns % 1000000 == 0) snprintf(buf, sizeof buf, "%gs", ns / 1e9);
    else if (ns >= 1000000 && ns % 1000 == 0) snprintf(buf, sizeof buf, "%gms", ns / 1e6);
    else if (ns >= 1000) snprintf(buf, sizeof buf, "%.3gus", ns / 1e3);
    else snprintf(buf, sizeof buf, "%lldns", static_cast<long long>(ns));
    return buf;
}

}  // namespace pollsim
