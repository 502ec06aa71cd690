#include "sim/source_file.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
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

YAML::Node parse_yaml(const std::string& text, const std::string& name) {
    try {
        return YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw InputError(name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                         ": malformed YAML: " + e.msg);
    }
}

}  // namespace pollsim
