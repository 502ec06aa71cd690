// libFuzzer target: `pollsim policy-trace` input (JSON Lines), issue 10.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <sstream>
#include <string>

#include "sim/cli/policy_trace.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
    std::ostringstream out, err;
    try {
        (void)pollsim::run_policy_trace(in, out, err, "weighted", "", "fuzz.jsonl");
    } catch (const std::exception&) {
    }
    return 0;
}
