#include "sim/error.h"

#include <yaml-cpp/yaml.h>

namespace pollsim {

std::string yaml_where(const YAML::Node& node, const std::string& file, const std::string& key) {
    // Nodes made by --set have no position in any file.
    const YAML::Mark m = node.Mark();
    std::string out;
    if (m.is_null()) out = "--set";
    else out = (file.empty() ? std::string("<config>") : file) + ":" + std::to_string(m.line + 1) + ":" +
               std::to_string(m.column + 1);
    if (!key.empty()) out += ": key '" + key + "'";
    return out;
}

}  // namespace pollsim
