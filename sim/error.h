// Errors in user input. The message names the file, line and key so that the
// user can fix it without reading our code; main() prints it and exits 2.
#pragma once
#include <stdexcept>
#include <string>

namespace YAML { class Node; }

namespace pollsim {

class InputError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "FILE:LINE:COL: key 'workload.bs': MESSAGE" from a YAML node's mark.
std::string yaml_where(const YAML::Node& node, const std::string& file, const std::string& key);

}  // namespace pollsim
