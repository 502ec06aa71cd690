#include "sim/yaml_reader.h"

#include <algorithm>
#include <limits>

#include "sim/error.h"

namespace pollsim {

MapReader::MapReader(YAML::Node node, std::string file, std::string prefix)
    : node_(std::move(node)), file_(std::move(file)), prefix_(std::move(prefix)) {
    if (node_ && !node_.IsNull() && !node_.IsMap())
        throw InputError(yaml_where(node_, file_, prefix_) + ": expected a map of keys");
}

std::string MapReader::where(const YAML::Node& n, const char* key) const { return yaml_where(n, file_, path(key)); }

YAML::Node MapReader::node(const char* key) {
    known_.emplace_back(key);
    if (!node_ || node_.IsNull()) return YAML::Node(YAML::NodeType::Undefined);  // "absent", unlike a null node
    return node_[key];
}

YAML::Node MapReader::scalar(const char* key) {
    YAML::Node n = node(key);
    if (n && !n.IsScalar()) throw InputError(where(n, key) + ": expected a single value");
    return n;
}

void MapReader::read(const char* key, std::string& out) {
    if (auto n = scalar(key)) out = n.Scalar();
}

void MapReader::read(const char* key, bool& out) {
    if (auto n = scalar(key)) {
        try {
            out = n.as<bool>();
        } catch (const YAML::Exception&) {
            throw InputError(where(n, key) + ": expected true or false, got '" + n.Scalar() + "'");
        }
    }
}

void MapReader::read(const char* key, double& out, double lo, double hi) {
    if (auto n = scalar(key)) {
        double v;
        try {
            v = n.as<double>();
        } catch (const YAML::Exception&) {
            throw InputError(where(n, key) + ": expected a number, got '" + n.Scalar() + "'");
        }
        if (!(v >= lo && v <= hi))
            throw InputError(where(n, key) + ": " + n.Scalar() + " is out of range [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
        out = v;
    }
}

void MapReader::read(const char* key, int64_t& out, int64_t lo, int64_t hi) {
    if (auto n = scalar(key)) {
        int64_t v;
        try {
            v = n.as<int64_t>();
        } catch (const YAML::Exception&) {
            throw InputError(where(n, key) + ": expected an integer, got '" + n.Scalar() + "'");
        }
        if (v < lo || v > hi)
            throw InputError(where(n, key) + ": " + std::to_string(v) + " is out of range [" + std::to_string(lo) +
                             ", " + std::to_string(hi) + "]");
        out = v;
    }
}

void MapReader::read(const char* key, int& out, int64_t lo, int64_t hi) {
    int64_t v = out;
    read(key, v, lo, hi);
    out = static_cast<int>(v);
}

void MapReader::read(const char* key, uint64_t& out) {
    int64_t v = static_cast<int64_t>(out);
    read(key, v, 0, std::numeric_limits<int64_t>::max());
    out = static_cast<uint64_t>(v);
}

void MapReader::read_duration(const char* key, int64_t& out_ns) {
    if (auto n = scalar(key)) {
        try {
            out_ns = parse_duration_ns(n.Scalar());
        } catch (const std::exception& e) {
            throw InputError(where(n, key) + ": " + e.what());
        }
    }
}

void MapReader::read_dist(const char* key, Dist& out) {
    if (auto n = node(key)) out = Dist::from_yaml(n, path(key), file_);
}

void MapReader::read_choice(const char* key, std::string& out, const std::vector<std::string>& choices) {
    if (auto n = scalar(key)) {
        if (std::find(choices.begin(), choices.end(), n.Scalar()) == choices.end()) {
            std::string list;
            for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
            throw InputError(where(n, key) + ": '" + n.Scalar() + "' is not one of " + list);
        }
        out = n.Scalar();
    }
}

bool MapReader::read_list(const char* key, std::vector<std::string>& out) {
    YAML::Node n = node(key);
    if (!n) return false;
    if (n.IsNull()) {
        out.clear();
        return true;
    }
    if (!n.IsSequence()) throw InputError(where(n, key) + ": expected a list such as [a, b] (or [] for none)");
    out.clear();
    for (const auto& item : n) {
        if (!item.IsScalar()) throw InputError(where(item, key) + ": expected a list of names");
        out.push_back(item.Scalar());
    }
    return true;
}

void MapReader::finish() {
    if (!node_ || node_.IsNull()) return;
    for (const auto& kv : node_) {
        const std::string k = kv.first.Scalar();
        if (std::find(known_.begin(), known_.end(), k) == known_.end()) {
            std::string list;
            for (const auto& c : known_) list += (list.empty() ? "" : ", ") + path(c.c_str());
            throw InputError(yaml_where(kv.first, file_, path(k.c_str())) + ": unknown key; valid keys here: " + list);
        }
    }
}

}  // namespace pollsim
