// libFuzzer target: every trace reader, through format auto-detection (the
// input is written to a file, as the readers read files), issue 10.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <unistd.h>

#include "workloads/trace/trace_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::string path = "/tmp/pollsim-fuzz-trace-" + std::to_string(::getpid());
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) return 0;
    std::fwrite(data, 1, size, f);
    std::fclose(f);
    for (const bool skip_bad : {false, true}) {
        try {
            pollsim::TraceOptions o;
            o.skip_bad = skip_bad;
            o.reorder_window = 16;
            auto r = pollsim::open_trace(path, "auto", o);
            pollsim::TraceRecord rec;
            for (int n = 0; n < 100000 && r->next(rec); ++n) {
            }
        } catch (const std::exception&) {
        }
    }
    return 0;
}
