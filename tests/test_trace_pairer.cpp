// The pairing of start and end lines shared by the blkparse and QEMU readers.
#include <doctest/doctest.h>

#include <vector>

#include "workloads/trace/trace_parse.h"

using namespace pollsim;
using namespace pollsim::trace;

namespace {
struct Collect final : RecordSink {
    std::vector<TraceRecord> out;
    int ignored = 0;
    void emit(const TraceRecord& r) override { out.push_back(r); }
    void ignore() override { ++ignored; }
};
TraceRecord at(int64_t t) {
    TraceRecord r;
    r.submit_ns = t;
    return r;
}
}  // namespace

TEST_CASE("Pairer: requests leave in start order once complete") {
    Pairer p;
    Collect c;
    p.start(1, at(10), c);
    p.start(2, at(20), c);
    CHECK(p.complete(2, 50, c));
    CHECK(c.out.empty());  // 1 still open holds 2 back
    CHECK(p.complete(1, 70, c));
    REQUIRE(c.out.size() == 2);
    CHECK(c.out[0].complete_ns == 70);
    CHECK(c.out[1].complete_ns == 50);
    CHECK_FALSE(p.complete(1, 80, c));  // nothing pending under key 1 any more
}

TEST_CASE("Pairer: a reused key completes its oldest request, drop removes one") {
    Pairer p;
    Collect c;
    p.start(7, at(1), c);
    p.start(7, at(2), c);
    p.start(8, at(3), c);
    CHECK(p.complete(7, 10, c));
    CHECK(p.drop(7, c));
    CHECK(p.complete(8, 12, c));
    REQUIRE(c.out.size() == 2);
    CHECK(c.out[0].submit_ns == 1);
    CHECK(c.out[1].submit_ns == 3);
    CHECK(c.ignored == 1);
}

TEST_CASE("Pairer: bounded: the oldest leaves unfinished when full, and at the end") {
    Pairer p(3);
    Collect c;
    for (int i = 0; i < 5; ++i) p.start(static_cast<uint64_t>(i), at(i), c);
    REQUIRE(c.out.size() == 2);  // 0 and 1 pushed out
    CHECK(c.out[0].complete_ns == TraceRecord::kNoTime);
    CHECK_FALSE(p.complete(0, 9, c));  // its key was forgotten
    CHECK(p.complete(2, 9, c));
    p.flush(c);
    REQUIRE(c.out.size() == 5);
    CHECK(c.out[2].complete_ns == 9);
    CHECK(c.out[4].complete_ns == TraceRecord::kNoTime);
}

TEST_CASE("Pairer: rekey moves the oldest pending request to a new key") {
    Pairer p;
    Collect c;
    p.start(5, at(1), c);
    p.start(5, at(2), c);
    CHECK(p.rekey(5, 9));  // the request at 1 is now known by 9
    CHECK_FALSE(p.rekey(6, 9));
    CHECK(p.complete(5, 20, c));  // the request at 2: held back by the one at 1
    CHECK(c.out.empty());
    CHECK(p.complete(9, 30, c));
    REQUIRE(c.out.size() == 2);
    CHECK(c.out[0].submit_ns == 1);
    CHECK(c.out[0].complete_ns == 30);
    CHECK(c.out[1].complete_ns == 20);
    CHECK_FALSE(p.pending(5));
    CHECK_FALSE(p.pending(9));
}
