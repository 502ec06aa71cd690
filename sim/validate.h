// `pollsim validate`: a real QEMU event loop's own trace log against the
// engine. The log's guest requests (virtio_blk_handle_read/write) are replayed
// open loop through a policy, and what the real loop traced (poll phases,
// their budgets, grows and shrinks) is set beside what the engine did.
#pragma once
#include <array>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "workloads/trace/qemu_log.h"

namespace pollsim {

struct ValidateRequest {
    std::string log;
    std::string policy;
    std::string iothread;  // QEMU property syntax
    std::string profile;   // "" = configs/profiles/x86-tcg.yaml
    std::vector<std::string> sets;
    LogWindow window;
    std::optional<int64_t> latency_ns;     // null-aio latency-ns; else the smallest recorded service time
    std::optional<double> real_cpu;        // IOThread CPU measured while the log was recorded
    std::optional<int64_t> cpu_from_log_ns;  // where that measurement starts, on the log's clock
    double tolerance = 0.25;
    std::string sim_log;  // write the first replication's loop events here (QEMU-like lines); "" = no
};

struct ValidateResult {
    ValidateRequest request;
    QemuLogScan scan;
    LoopFigures real, simulated;
    int64_t latency_ns = 0;
    std::string latency_source;
    // simulated / real for each scalar, in a fixed order; nullopt where real
    // is 0 and simulated is not.
    std::vector<std::pair<std::string, std::optional<double>>> ratios;
    std::vector<std::string> outside;  // keys whose ratio is not within tolerance

    bool pass() const { return outside.empty(); }
};

ValidateResult validate_log(const ValidateRequest& request);

// {"real": {...}, "simulated": {...}, "ratio": {...}} with the same keys.
nlohmann::ordered_json validate_json(const ValidateResult& r);
std::string validate_text(const ValidateResult& r);

// A capture's sidecar (NAME.json beside NAME.log.xz, results/real-qemu/):
// fills what `q` does not have yet (log, policy, iothread, latency_ns, the
// IOThread CPU measured over the fio run and where that run started).
// Returns false if the JSON is not a capture sidecar (no "log" key).
bool apply_sidecar(ValidateRequest& q, const std::string& sidecar_file);
// NAME.json for NAME.log.xz / NAME.log, or "" if there is none.
std::string sidecar_of(const std::string& log);

// One committed capture.
struct Capture {
    std::string name;
    std::string sidecar;
    ValidateRequest request;
};
// Every capture under dir (recursively), sorted by name. Throws InputError
// naming the sidecar file and key that is wrong.
std::vector<Capture> find_captures(const std::string& dir, const std::vector<std::string>& sets,
                                   const std::string& profile, double tolerance);

// The agreement table of `validate --all`: per point the ratios, per policy
// the share of points within tolerance for each key.
struct AgreementRow {
    std::string name;
    std::string policy;
    ValidateResult result;
};
std::string agreement_markdown(const std::vector<AgreementRow>& rows, double tolerance);
nlohmann::ordered_json agreement_json(const std::vector<AgreementRow>& rows, double tolerance);
// The keys the agreement criterion counts (requests must match exactly).
const std::vector<std::string>& agreement_keys();

}  // namespace pollsim
