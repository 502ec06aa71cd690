// configs/*.yaml compiled into the binary (see CMakeLists.txt), so that
// `pollsim run` works without a checkout.
#pragma once
#include <string>
#include <vector>

namespace pollsim {

struct EmbeddedFile {
    const char* path;  // relative to the source tree, e.g. "configs/default.yaml"
    const char* text;
};
const std::vector<EmbeddedFile>& embedded_files();
// nullptr if not embedded.
const char* find_embedded(const std::string& path);
// A hash of the engine's, policies' and workloads' sources at build time
// (CMakeLists.txt): what a cached sweep point must have been made with.
const char* model_id();

}  // namespace pollsim
