// One guest I/O request as it travels guest -> virtqueue -> backend -> guest.
#pragma once
#include <cstdint>

namespace pollsim {

enum class Op : uint8_t { read = 0, write = 1 };

struct IoRequest {
    int64_t t_sub_ns = 0;     // guest submission time (set by the engine on submit)
    int32_t device = 0;       // virtio-blk device, 0 .. devices-1
    int32_t queue = 0;        // virtqueue within the device, 0 .. queues-1
    int32_t job = -1;         // fio job that owns it, or -1 (open loop)
    Op op = Op::read;
    bool random = true;       // random or sequential access (selects the service distribution)
    int64_t bytes = 4096;
    int64_t service_ns = -1;  // backend service time; -1: drawn from the profile
    // A recorded trace's submit-to-complete time when the service itself is
    // drawn (workload.service: profile-recorded-wake): with timer-completions
    // the wake-up on this request's timer then ends when the recording's
    // completion did. -1: not recorded.
    int64_t recorded_latency_ns = -1;
    uint64_t tag = 0;         // workload's own cookie, returned on completion
};

}  // namespace pollsim
