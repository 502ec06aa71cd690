// The engine's small containers: items kept inline until they outgrow the
// object, then on the heap (and, for a Fifo, back inline once empty). Each
// case walks a hand-written sequence across those moves.
#include <doctest/doctest.h>

#include <vector>

#include "sim/fifo.h"
#include "sim/index_set.h"
#include "sim/small_vec.h"

using namespace pollsim;

namespace {
template <class F>
std::vector<int> drain(F& fifo) {
    std::vector<int> out;
    while (!fifo.empty()) out.push_back(fifo.pop());
    return out;
}
}  // namespace

TEST_CASE("Fifo with inline room: order kept across the move to the heap and back") {
    Fifo<int, 4> q;
    for (int i = 1; i <= 3; ++i) q.push(i);  // inline
    CHECK(q.pop() == 1);                      // head moves to 1: the ring wraps below
    q.push(4);
    q.push(5);                                // 4 items, wrapped
    q.push(6);                                // 5th: to the heap, in order
    CHECK(q.size() == 5);
    CHECK(q.front() == 2);
    CHECK(drain(q) == std::vector<int>{2, 3, 4, 5, 6});
    // Empty: back inline, and usable again past its inline room.
    for (int i = 10; i < 30; ++i) q.push(i);
    CHECK(q.size() == 20);
    std::vector<int> want;
    for (int i = 10; i < 30; ++i) want.push_back(i);
    CHECK(drain(q) == want);
}

TEST_CASE("Fifo copies hold their own items, inline or on the heap") {
    Fifo<int, 4> small;
    small.push(7);
    small.push(8);
    Fifo<int, 4> big;
    for (int i = 0; i < 9; ++i) big.push(i);
    Fifo<int, 4> a = small;  // inline copy
    Fifo<int, 4> b = big;    // heap copy
    small.push(9);
    big.pop();
    CHECK(drain(a) == std::vector<int>{7, 8});
    CHECK(drain(b) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8});
    a = big;  // assignment over an empty one
    CHECK(drain(a) == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8});
    // A vector of them (as handlers are) survives its reallocation.
    std::vector<Fifo<int, 4>> queues(1);
    queues[0].push(42);
    for (int i = 0; i < 8; ++i) queues.emplace_back();
    CHECK(drain(queues[0]) == std::vector<int>{42});
}

TEST_CASE("Fifo without inline room grows from nothing") {
    Fifo<int> q;
    CHECK(q.empty());
    for (int i = 0; i < 40; ++i) q.push(i);
    for (int i = 0; i < 40; ++i) CHECK(q.pop() == i);
    q.push(5);  // usable again once empty
    q.push(6);
    CHECK(q.pop() == 5);
    CHECK(q.pop() == 6);
}

TEST_CASE("SmallVec past its inline room, resized, assigned and copied") {
    SmallVec<int, 2> v;
    v.push_back(1);
    v.push_back(2);
    v.push_back(3);  // to the heap
    CHECK(v.size() == 3);
    CHECK(std::vector<int>(v.begin(), v.end()) == std::vector<int>{1, 2, 3});
    v.resize(5, 9);
    CHECK(std::vector<int>(v.begin(), v.end()) == std::vector<int>{1, 2, 3, 9, 9});
    v.resize(1);
    CHECK(v.size() == 1);
    CHECK(v[0] == 1);
    SmallVec<int, 2> w = v;
    v[0] = 4;
    CHECK(w[0] == 1);
    const std::vector<int> src{5, 6, 7, 8};
    w.assign(src.begin(), src.end());
    CHECK(std::vector<int>(w.begin(), w.end()) == src);
    w.assign(2, 0);
    CHECK(std::vector<int>(w.begin(), w.end()) == std::vector<int>{0, 0});
    w.clear();
    CHECK(w.empty());
}

TEST_CASE("IndexSet inline (up to 64) and beyond, visited in order") {
    for (int capacity : {3, 64, 200}) {
        IndexSet s(capacity);
        std::vector<int> members;
        for (int i : {2, 0, capacity - 1, 1}) s.insert(i);
        s.erase(1);
        s.for_each([&](int i) { members.push_back(i); });
        std::vector<int> want{0, 2};
        if (capacity - 1 > 2) want.push_back(capacity - 1);
        CHECK(members == want);
        CHECK(s.find_if([](int i) { return i == 2; }));
        CHECK_FALSE(s.find_if([](int i) { return i == 1; }));
    }
}
