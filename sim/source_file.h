// Reading the files pollsim is driven by (configs, profiles, sweeps, check
// suites): from disk, or from the copies of configs/**.yaml embedded in the
// binary, named "embedded:configs/...". One place for reading, resolving
// relative paths and reporting malformed YAML.
#pragma once
#include <string>

namespace YAML { class Node; }

namespace pollsim {

inline constexpr const char* kEmbeddedPrefix = "embedded:";

struct SourceText {
    std::string name;  // path on disk, or "embedded:configs/..."
    std::string dir;   // what relative paths inside it resolve against
    std::string text;
};

// Reads `path` ("embedded:..." reads the embedded copy). With
// embedded_fallback, a path missing on disk is looked up among the embedded
// configs, so tools work outside a checkout. Throws InputError
// "WHAT: cannot open 'PATH'".
SourceText read_source(const std::string& path, const std::string& what, bool embedded_fallback = false);
// True if read_source(path, .., false) would succeed.
bool source_exists(const std::string& path);
// A relative path written in a file means "beside that file", also for the
// embedded copies.
std::string resolve_beside(const std::string& dir, const std::string& path);
// YAML::Load with the error as "NAME:LINE:COL: malformed YAML: ...".
YAML::Node parse_yaml(const std::string& text, const std::string& name);

}  // namespace pollsim
