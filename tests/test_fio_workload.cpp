// The closed-loop fio workload (workloads/fio.cpp): which device and queue
// each job's requests go to, and what the requests carry, checked request by
// request against a fake guest.
#include <doctest/doctest.h>

#include <set>

#include "tests/fake_guest.h"
#include "workloads/workloads.h"

using namespace pollsim;
using test::FakeGuest;

TEST_CASE("fio separate-disk: job j on device j mod devices, queue (j div devices) mod queues, on every submission") {
    WorkloadConfig cfg;
    cfg.rw = "randwrite";
    cfg.bs = 8192;
    cfg.numjobs = 10;
    cfg.iodepth = 2;
    FakeGuest g(4, 2);  // 4 devices of 2 queues; every request takes 100 us
    auto w = make_fio_workload(cfg, 1);
    g.run(*w, 250'000);  // submissions at 0, 100 and 200 us
    REQUIRE(g.submitted.size() == 10 * 2 * 3);
    // Worked by hand: device j mod 4, queue (j / 4) mod 2.
    const int device[10] = {0, 1, 2, 3, 0, 1, 2, 3, 0, 1};
    const int queue[10] = {0, 0, 0, 0, 1, 1, 1, 1, 0, 0};
    for (const IoRequest& r : g.submitted) {
        CAPTURE(r.job);
        REQUIRE(r.job >= 0);
        REQUIRE(r.job < 10);
        CHECK(r.device == device[r.job]);
        CHECK(r.queue == queue[r.job]);
        CHECK(r.op == Op::write);
        CHECK(r.random);
        CHECK(r.bytes == 8192);
        CHECK(r.service_ns == -1);
        CHECK(r.recorded_latency_ns == -1);
        CHECK(r.tag == 0);
    }
    // Start: each job's iodepth requests, job by job; then one per completion.
    for (int k = 0; k < 20; ++k) {
        CHECK(g.submitted[static_cast<size_t>(k)].job == k / 2);
        CHECK(g.submitted[static_cast<size_t>(k)].t_sub_ns == 0);
    }
    CHECK(g.submitted[20].t_sub_ns == 100'000);
    CHECK(g.submitted[40].t_sub_ns == 200'000);
}

TEST_CASE("fio spread all: the device is drawn per request, the queue is job mod queues") {
    WorkloadConfig cfg;
    cfg.spread = "all";
    cfg.numjobs = 5;
    cfg.iodepth = 4;
    auto run = [&](uint64_t seed) {
        FakeGuest g(16, 3);
        auto w = make_fio_workload(cfg, seed);
        g.run(*w, 450'000);
        return g.submitted;
    };
    const auto a = run(7);
    REQUIRE(a.size() == 5 * 4 * 5);
    std::set<int> devices_of_job0;
    for (const IoRequest& r : a) {
        CAPTURE(r.job);
        CHECK(r.queue == r.job % 3);
        CHECK(r.device >= 0);
        CHECK(r.device < 16);
        if (r.job == 0) devices_of_job0.insert(r.device);
    }
    // Job 0's 20 requests over 16 devices: drawn, not fixed (all on one
    // device has probability 16^-19).
    CHECK(devices_of_job0.size() > 1);
    // The same seed draws the same devices.
    const auto b = run(7);
    REQUIRE(b.size() == a.size());
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].device == b[i].device);
}
