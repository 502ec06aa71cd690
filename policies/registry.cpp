// The policy table: a new policy is one new file and one line here. Also the
// handling of QEMU's iothread properties shared by every policy.
#include <charconv>
#include <cmath>
#include <stdexcept>

#include "policies/policies.h"
#include "sim/ops_table.h"

namespace pollsim {

const std::vector<PolicyOps>& policy_table() {
    // defaults: {poll-max-ns, poll-grow, poll-shrink, poll-weight, poll-grow-start,
    // poll-allow-shrink}: QEMU's own for QEMU's policies; for the others the
    // defaults of the source each follows (cited in its file).
    static const std::vector<PolicyOps> table = {
        {"legacy-global", "one grow/shrink poll time per AioContext (QEMU before 10.0)", {32768, 0, 0, 0, 0, 0}, make_legacy_global_policy},
        {"legacy", "grow/shrink poll time per handler, context polls for the max (QEMU 10.0 to 11.0)", {32768, 0, 0, 0, 0, 0}, make_legacy_policy},
        {"weighted", "weighted average of each handler's event gap (QEMU 11.1)", {32768, 2, 2, 3, 0, 0}, make_weighted_policy},
        {"none", "never busy-poll", {32768, 0, 0, 0, 0, 0}, make_none_policy},
        {"fixed", "always busy-poll for poll-max-ns", {32768, 0, 0, 0, 0, 0}, make_fixed_policy},
        {"ski-rental", "poll for the break-even time B = poll-max-ns (default: the s390x-fcp sleep cost), then sleep", {kSkiRentalDefaultB, 0, 0, 0, 0, 0}, make_ski_rental_policy},
        {"ski-rental-random", "poll for a random time in [0, B], density e^(x/B)/(B(e-1)), B = poll-max-ns", {kSkiRentalDefaultB, 0, 0, 0, 0, 0}, make_ski_rental_random_policy},
        {"kvm-halt-poll", "KVM host halt polling: grow/shrink on the whole block time (virt/kvm/kvm_main.c)", {50000, 2, 2, 0, 10000, 0}, make_kvm_halt_poll_policy},
        {"haltpoll", "cpuidle-haltpoll guest governor: adjust on the time slept after polling", {200000, 2, 2, 0, 50000, 1}, make_haltpoll_policy},
        {"oracle", "offline optimum (open loop, 1 IOThread): poll exactly until the next work if that costs less than sleeping, else sleep at once", {32768, 0, 0, 0, 0, 0}, make_oracle_policy, /*clairvoyant=*/true},
    };
    return table;
}

const PolicyOps* find_policy(std::string_view name) { return find_by_name(policy_table(), name); }

std::string policy_names() { return names_of(policy_table()); }

const PolicyOps* find_clairvoyant_policy() {
    for (const auto& ops : policy_table())
        if (ops.clairvoyant) return &ops;
    return nullptr;
}

namespace {

// The properties in QEMU's spelling, bound to their PolicyParams field.
struct Property {
    const char* name;
    int64_t PolicyParams::*field;
};
constexpr Property kProperties[] = {
    {"poll-max-ns", &PolicyParams::poll_max_ns},
    {"poll-grow", &PolicyParams::poll_grow},
    {"poll-shrink", &PolicyParams::poll_shrink},
    {"poll-weight", &PolicyParams::poll_weight},
    {"poll-grow-start", &PolicyParams::poll_grow_start},
    {"poll-allow-shrink", &PolicyParams::poll_allow_shrink},
};
constexpr const char* kValidProperties =
    "poll-max-ns, poll-grow, poll-shrink, poll-weight, poll-grow-start, poll-allow-shrink";

// QEMU's range for each property: every one is >= 0, poll-weight is a shift
// count and must also stay below 64; poll-allow-shrink is a boolean.
void check_range(const char* name, int64_t value) {
    if (std::string_view(name) == "poll-weight") {
        if (value < 0 || value > 63)
            throw std::invalid_argument("poll-weight must be in [0, 63], got " + std::to_string(value));
    } else if (std::string_view(name) == "poll-allow-shrink") {
        if (value < 0 || value > 1)
            throw std::invalid_argument("poll-allow-shrink must be 0 or 1, got " + std::to_string(value));
    } else if (value < 0) {
        throw std::invalid_argument(std::string(name) + " must be >= 0, got " + std::to_string(value));
    }
}

std::string_view trim(std::string_view s) {
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    while (!s.empty() && space(s.front())) s.remove_prefix(1);
    while (!s.empty() && space(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace

PolicyParams resolve_policy_params(const PolicyOps& ops, const PolicyParams& given) {
    PolicyParams r = given;
    for (const auto& prop : kProperties) {
        if (r.*prop.field == -1) r.*prop.field = ops.defaults.*prop.field;
        check_range(prop.name, r.*prop.field);
    }
    if (r.latency_weight == -1) r.latency_weight = 1.0;
    if (!std::isfinite(r.latency_weight) || r.latency_weight < 0)
        throw std::invalid_argument("oracle.latency_weight must be a finite number >= 0, got " +
                                    std::to_string(r.latency_weight));
    return r;
}

void parse_iothread_properties(std::string_view text, PolicyParams& into) {
    while (!text.empty()) {
        const size_t comma = text.find(',');
        const std::string_view item = trim(text.substr(0, comma));
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty()) continue;  // tolerate "a=1,,b=2" and a trailing comma

        const size_t eq = item.find('=');
        if (eq == std::string_view::npos)
            throw std::invalid_argument("iothread property '" + std::string(item) +
                                        "' is not NAME=VALUE; valid properties: " + kValidProperties);
        const std::string_view key = trim(item.substr(0, eq));
        const std::string_view value = trim(item.substr(eq + 1));

        const auto* prop = std::find_if(std::begin(kProperties), std::end(kProperties),
                                        [&](const Property& p) { return key == p.name; });
        if (prop == std::end(kProperties))
            throw std::invalid_argument("unknown iothread property '" + std::string(key) + "' in '" +
                                        std::string(item) + "'; valid properties: " + kValidProperties);

        int64_t v = 0;
        const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
        if (ec != std::errc() || end != value.data() + value.size() || value.empty())
            throw std::invalid_argument("iothread property '" + std::string(item) + "': '" +
                                        std::string(value) + "' is not an int64 integer; valid properties: " +
                                        kValidProperties);
        // Checked here as well as in resolve_policy_params(): -1 is PolicyParams'
        // "not given" marker, so "poll-grow=-1" would otherwise silently mean
        // the default.
        check_range(prop->name, v);
        into.*prop->field = v;
    }
}

}  // namespace pollsim
