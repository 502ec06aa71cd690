// libFuzzer target: the config reader (YAML text -> Config), issue 10.
// Any exception is a refused input; a crash or a sanitizer report is a bug.
#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>

#include "sim/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        // A fixed profile, so that the rest of the config is read.
        (void)pollsim::load_config_text(text, "fuzz.yaml", POLLSIM_SOURCE_DIR "/configs",
                                        {"profile=" POLLSIM_SOURCE_DIR "/configs/profiles/s390x-fcp.yaml"});
    } catch (const std::exception&) {
    }
    return 0;
}
