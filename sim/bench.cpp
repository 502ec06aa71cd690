#include "sim/bench.h"

#include <ctime>
#include <queue>
#include <vector>

#include "sim/rng.h"

namespace pollsim {

double process_cpu_s() {
    timespec t{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

double bare_heap_events_per_cpu_s(int pending, int64_t events) {
    struct Ev {
        int64_t t_ns;
        uint32_t id;
        bool operator>(const Ev& o) const { return t_ns != o.t_ns ? t_ns > o.t_ns : id > o.id; }
    };
    std::priority_queue<Ev, std::vector<Ev>, std::greater<>> heap;
    Rng rng(12345);
    for (int i = 0; i < pending; ++i) heap.push({static_cast<int64_t>(rng.next() % 100000), static_cast<uint32_t>(i)});
    uint64_t sink = 0;
    const double t0 = process_cpu_s();
    for (int64_t i = 0; i < events; ++i) {
        const Ev e = heap.top();
        heap.pop();
        sink += e.id;
        heap.push({e.t_ns + 1 + static_cast<int64_t>(rng.next() % 20000), e.id});
    }
    const double cpu_s = process_cpu_s() - t0;
    // Keep the loop's result observable so it is not optimised away.
    if (sink == 42) heap.push({0, 0});
    return cpu_s > 0 ? static_cast<double>(events) / cpu_s : 0.0;
}

}  // namespace pollsim
