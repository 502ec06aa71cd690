// The guest-vcpus mechanism (sim/guest_vcpus.h): a halted vCPU's wake-up,
// KVM halt polling, one completion at a time per vCPU, and the guest as the
// bottleneck of a closed loop. Every expected time is worked out by hand in
// the comments from the constant costs given.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

#include "sim/config.h"
#include "sim/guest_vcpus.h"
#include "sim/profile.h"
#include "sim/runner.h"
#include "sim/simulation.h"
#include "tests/test_util.h"

using namespace pollsim;
using pollsim::test::CompletionTimes;
using pollsim::test::input_error_of;
using pollsim::test::TimedRequests;

namespace {

// Records what the vCPUs ask of the simulation.
struct FakeHost final : GuestVcpus::Host {
    std::vector<std::pair<int, int64_t>> scheduled;           // (vcpu, t)
    std::vector<int32_t> completed;                           // request ids
    std::vector<std::pair<int64_t, int64_t>> busy, halt_poll;  // [from, to)
    void schedule_vcpu(int vcpu, int64_t t_ns) override { scheduled.emplace_back(vcpu, t_ns); }
    void complete_for_guest(int32_t id) override { completed.push_back(id); }
    void charge_vcpu(int32_t, int64_t from, int64_t to, bool hp) override { (hp ? halt_poll : busy).emplace_back(from, to); }
};

Profile vcpu_profile(int64_t vcpus, int64_t wakeup_ns, int64_t complete_ns, int64_t halt_poll_ns) {
    Profile p;
    p.guest_vcpus = vcpus;
    p.guest_wakeup_latency_ns = Dist::constant(wakeup_ns);
    p.guest_complete_ns = Dist::constant(complete_ns);
    p.guest_halt_poll_ns = halt_poll_ns;
    return p;
}

using Span = std::pair<int64_t, int64_t>;

Config vcpu_config(std::vector<std::string> sets) {
    std::vector<std::string> all = {"profile=" POLLSIM_TEST_DATA "/profiles/zero.yaml", "replications=1", "threads=1",
                                    "warmup=0", "policy=none", "mechanisms=[guest-vcpus]"};
    all.insert(all.end(), sets.begin(), sets.end());
    return load_config_text("{}", "test", ".", all);
}

}  // namespace

TEST_CASE("guest-vcpus: a halted vCPU wakes, then takes one completion at a time") {
    FakeHost host;
    // One vCPU, wake-up 10 us, 3 us per completion, no halt polling.
    GuestVcpus v(vcpu_profile(1, 10000, 3000, 0), 7, host);
    v.interrupt(1, 0, 100);  // halted since 0: runs at 100 + 10000, done 3000 later
    v.interrupt(2, 5, 200);  // busy: waits its turn
    REQUIRE(host.scheduled.size() == 1);
    CHECK(host.scheduled[0] == std::pair<int, int64_t>(0, 13100));
    CHECK(host.busy == std::vector<Span>{{10100, 13100}});
    v.on_done(0, 13100);  // request 1 to the guest; request 2 starts at once
    CHECK(host.completed == std::vector<int32_t>{1});
    CHECK(host.scheduled.back() == std::pair<int, int64_t>(0, 16100));
    v.on_done(0, 16100);
    CHECK(host.completed == std::vector<int32_t>{1, 2});
    CHECK(host.scheduled.size() == 2);  // idle again: nothing scheduled
    CHECK(host.halt_poll.empty());
}

TEST_CASE("guest-vcpus: an interrupt inside the halt-polling window needs no wake-up, one after it does") {
    FakeHost host;
    // Two vCPUs, wake-up 10 us, 3 us per completion, halt polling 50 us.
    GuestVcpus v(vcpu_profile(2, 10000, 3000, 50000), 7, host);
    v.interrupt(1, 1, 40000);  // device 1 -> vCPU 1, idle 40 us <= 50 us: polled, runs at once
    CHECK(host.halt_poll == std::vector<Span>{{0, 40000}});
    CHECK(host.scheduled.back() == std::pair<int, int64_t>(1, 43000));
    v.on_done(1, 43000);  // vCPU 1 idle from 43000
    v.interrupt(2, 3, 100000);  // device 3 -> vCPU 1, idle 57 us > 50 us: polls 50 us, then wakes
    CHECK(host.halt_poll.back() == Span(43000, 93000));
    CHECK(host.busy.back() == Span(110000, 113000));
    CHECK(host.scheduled.back() == std::pair<int, int64_t>(1, 113000));
    v.interrupt(3, 2, 100000);  // device 2 -> vCPU 0, idle 100 us: polls 50 us, then wakes
    CHECK(host.halt_poll.back() == Span(0, 50000));
    CHECK(host.scheduled.back() == std::pair<int, int64_t>(0, 113000));
}

TEST_CASE("guest-vcpus in the engine: completions wait for the vCPU, which is charged to the IOThread's guest CPU") {
    // Zero costs, no polling, service 20 us. A on device 0 at 0 completes at
    // the backend at 20000; the vCPU (halted since 0, no halt polling) runs
    // at 30000 and hands A to the guest at 33000. B on device 1 at 1000
    // completes at 21000 and waits for the one vCPU: 36000.
    const Config c = vcpu_config({"devices=2", "duration=1ms", "costs.service.randread=20us", "costs.guest_vcpus=1",
                                  "costs.guest_wakeup_latency_ns=10us", "costs.guest_complete_ns=3us"});
    CompletionTimes done;
    Simulation sim(c, 0, std::make_unique<TimedRequests>(std::vector<std::pair<int64_t, int32_t>>{{0, 0}, {1000, 1}}), &done);
    const ReplicationResult r = sim.run();
    CHECK(done.at[0] == 33000);
    CHECK(done.at[1] == 36000);
    CHECK(r.guest_vcpus);
    CHECK(r.contexts.at(0).guest_vcpu_ns == 6000);
    CHECK(r.contexts.at(0).guest_halt_poll_ns == 0);
}

TEST_CASE("guest-vcpus: one vCPU at 200 us per completion bounds a closed loop at 5000 IOPS") {
    // fio, 1 job, iodepth 8, service 1 ms: the backend alone allows 8000
    // IOPS; one vCPU needing 200 us per completion allows 5000, and with
    // eight requests in flight it never idles after the first one.
    std::vector<std::string> sets = {"devices=1", "warmup=20ms", "duration=100ms", "workload.iodepth=8",
                                     "costs.guest_vcpus=1", "costs.guest_complete_ns=200us"};
    const auto with = run_config(vcpu_config(sets)).report["metrics"];
    CHECK(with["iops"]["mean"].get<double>() == doctest::Approx(5000).epsilon(0.002));
    CHECK(with["cpu"]["guest_vcpu"]["mean"].get<double>() == doctest::Approx(1.0));
    sets.push_back("mechanisms=[]");
    const auto without = run_config(vcpu_config(sets)).report["metrics"];
    CHECK(without["iops"]["mean"].get<double>() == doctest::Approx(8000).epsilon(0.002));
    CHECK_FALSE(without["cpu"].contains("guest_vcpu"));
}

TEST_CASE("guest-vcpus without a vCPU count is refused by name") {
    CHECK(input_error_of([] { (void)vcpu_config({"duration=1ms"}); }).find("needs the profile's 'guest_vcpus'") !=
          std::string::npos);
}
