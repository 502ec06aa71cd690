// What `pollsim bench` measures beside the model: the speed limit of the
// model's own data structure, a bare binary-heap event queue, on the same
// machine in the same run, so a ratio to it can be printed every time.
#pragma once
#include <cstdint>

namespace pollsim {

// Events per CPU-second of a "hold" loop on std::priority_queue of
// {int64 time, uint32 id}: pop the earliest, push one a random step later,
// with `pending` events held (pollsim's queue holds a few per context and
// device). Deterministic work; the time is the process's CPU time.
double bare_heap_events_per_cpu_s(int pending, int64_t events);

// CPU time of this process so far (user + system), in seconds.
double process_cpu_s();

}  // namespace pollsim
