#include "sim/source_file.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <map>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include "sim/embedded.h"
#include "sim/error.h"

namespace fs = std::filesystem;

namespace pollsim {

namespace {
bool is_embedded(const std::string& path) { return path.rfind(kEmbeddedPrefix, 0) == 0; }
std::string without_prefix(const std::string& path) { return path.substr(strlen(kEmbeddedPrefix)); }

SourceText embedded_source(const std::string& rel, const char* text) {
    return {kEmbeddedPrefix + rel, kEmbeddedPrefix + fs::path(rel).parent_path().string(), text};
}
}  // namespace

const char* find_embedded(const std::string& path) {
    for (const auto& f : embedded_files())
        if (path == f.path) return f.text;
    return nullptr;
}

SourceText read_source(const std::string& path, const std::string& what, bool embedded_fallback) {
    if (is_embedded(path)) {
        const std::string rel = without_prefix(path);
        if (const char* text = find_embedded(rel)) return embedded_source(rel, text);
        throw InputError(what + ": no embedded file '" + path + "'");
    }
    if (std::ifstream in{path}) {
        std::stringstream ss;
        ss << in.rdbuf();
        return {path, fs::path(path).parent_path().string(), ss.str()};
    }
    if (embedded_fallback) {
        const std::string rel = fs::path(path).lexically_normal().string();
        if (const char* text = find_embedded(rel)) return embedded_source(rel, text);
    }
    throw InputError(what + ": cannot open '" + path + "'");
}

bool source_exists(const std::string& path) {
    if (is_embedded(path)) return find_embedded(without_prefix(path)) != nullptr;
    return std::ifstream(path).good();
}

std::string resolve_beside(const std::string& dir, const std::string& path) {
    if (path.empty() || path[0] == '/') return path;
    if (is_embedded(dir))
        return kEmbeddedPrefix + (fs::path(without_prefix(dir)) / path).lexically_normal().string();
    return (fs::path(dir) / path).lexically_normal().string();
}

namespace {

std::string yaml_at(const std::string& name, const YAML::Mark& m) {
    return name + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
}

// yaml-cpp keeps both entries of a repeated key and lookups see the first:
// the second would be silently ignored. An alias can make the tree a graph
// (even a cycle, `&a [*a]`): depth and nodes visited are bounded.
void check_duplicate_keys(const YAML::Node& n, const std::string& name, int depth, int64_t& budget) {
    if (depth > 600 || --budget < 0)
        throw InputError(name + ": YAML nested too deeply or too many nodes through aliases (at most about 500 "
                                "levels, 10^6 nodes)");
    if (n.IsSequence()) {
        for (const auto& item : n) check_duplicate_keys(item, name, depth + 1, budget);
    } else if (n.IsMap()) {
        std::map<std::string, YAML::Mark> seen;
        for (const auto& kv : n) {
            if (kv.first.IsScalar()) {
                const auto [it, fresh] = seen.emplace(kv.first.Scalar(), kv.first.Mark());
                if (!fresh)
                    throw InputError(yaml_at(name, kv.first.Mark()) + ": duplicate key '" +
                                     kv.first.Scalar().substr(0, 80) + "' (first at line " +
                                     std::to_string(it->second.line + 1) + ")");
            }
            check_duplicate_keys(kv.second, name, depth + 1, budget);
        }
    }
}

}  // namespace

YAML::Node parse_yaml(const std::string& text, const std::string& name) {
    try {
        YAML::Node root = YAML::Load(text);
        int64_t budget = 1'000'000;
        check_duplicate_keys(root, name, 0, budget);
        return root;
    } catch (const YAML::DeepRecursion& e) {
        throw InputError(yaml_at(name, e.mark) + ": YAML nested too deeply (at most about 500 levels)");
    } catch (const YAML::ParserException& e) {
        throw InputError(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                         ": malformed YAML: " + e.msg);
    }
}

}  // namespace pollsim
