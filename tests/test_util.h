// Helpers shared by the test files.
#pragma once
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include "sim/error.h"
#include "sim/simulation.h"
#include "sim/workload.h"

namespace pollsim::test {

// The InputError message f() throws, or "" if it throws none.
inline std::string input_error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const InputError& e) {
        return e.what();
    }
    return "";
}

// A fresh directory under /tmp for one test, removed afterwards.
struct ScratchDir {
    std::filesystem::path dir;
    explicit ScratchDir(const std::string& name) {
        dir = std::filesystem::temp_directory_path() / ("pollsim-test-" + name + "-" + std::to_string(::getpid()));
        std::filesystem::remove_all(dir);
        std::filesystem::create_directories(dir);
    }
    ~ScratchDir() { std::filesystem::remove_all(dir); }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    std::string path(const std::string& name) const { return (dir / name).string(); }
    std::string write(const std::string& name, const std::string& text) const {
        std::ofstream(dir / name) << text;
        return path(name);
    }
};

// Submits one request per (time, device) pair, tagged by its index.
class TimedRequests final : public Workload {
public:
    explicit TimedRequests(std::vector<std::pair<int64_t, int32_t>> at) : at_(std::move(at)) {}
    void start(GuestApi& g) override {
        for (size_t i = 0; i < at_.size(); ++i) g.timer_at(at_[i].first, i);
    }
    void on_timer(GuestApi& g, uint64_t i) override {
        IoRequest req;
        req.device = at_[i].second;
        req.tag = i;
        g.submit(req);
    }
    void on_complete(GuestApi&, const IoRequest&) override {}

private:
    std::vector<std::pair<int64_t, int32_t>> at_;
};

// Guest completion time per request tag (-1: not completed).
struct CompletionTimes final : RequestObserver {
    std::vector<int64_t> at = std::vector<int64_t>(8, -1);
    void on_request(const IoRequest& req, int64_t, int64_t complete_ns) override { at[req.tag] = complete_ns; }
};

}  // namespace pollsim::test
