// Reads one YAML map key by key, so every key is decoded in one place and any
// key nobody asked for is reported with its file, line and the valid keys.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "sim/dist.h"

namespace pollsim {

class MapReader {
public:
    // prefix: dotted path of this map ("workload"), "" at top level.
    MapReader(YAML::Node node, std::string file, std::string prefix);

    bool has(const char* key) const { return node_ && node_[key]; }
    YAML::Node node(const char* key);
    void read(const char* key, std::string& out);
    void read(const char* key, bool& out);
    void read(const char* key, double& out, double lo, double hi);
    void read(const char* key, int& out, int64_t lo, int64_t hi);
    void read(const char* key, int64_t& out, int64_t lo, int64_t hi);
    void read(const char* key, uint64_t& out);
    void read_duration(const char* key, int64_t& out_ns);
    void read_dist(const char* key, Dist& out);
    void read_choice(const char* key, std::string& out, const std::vector<std::string>& choices);
    // A sequence of scalars ("[a, b]"; an empty "[]" is allowed). Returns
    // false, leaving `out` alone, if the key is absent.
    bool read_list(const char* key, std::vector<std::string>& out);
    // Throws InputError for the first key not read (call after all reads).
    void finish();

    std::string path(const char* key) const { return prefix_.empty() ? key : prefix_ + "." + key; }
    const std::string& file() const { return file_; }
    std::string where(const YAML::Node& n, const char* key) const;

private:
    YAML::Node scalar(const char* key);
    YAML::Node node_;
    std::string file_, prefix_;
    std::vector<std::string> known_;
};

}  // namespace pollsim
