#include "sim/mechanisms.h"

#include <algorithm>
#include <stdexcept>

#include "sim/ops_table.h"

namespace pollsim {

const std::vector<MechanismOps>& mechanism_table() {
    static const std::vector<MechanismOps> table = {
        {"timer-completions",
         "completions are timers in the IOThread's loop (QEMU null-aio latency-ns): deadlines cap polling and waits",
         &Mechanisms::timer_completions},
        {"timer-notify",
         "arming the earliest timer notifies the AioContext: its notifier (on the poll list) ends the next poll at once",
         &Mechanisms::timer_notify},
        {"dispatch-poll-gate",
         "after a vq dispatch the next iteration polls only if that dispatch armed the earliest timer (seen in QEMU 11.1)",
         &Mechanisms::dispatch_poll_gate},
        {"guest-vcpus",
         "completions interrupt finite guest vCPUs (wake-up of a halted vCPU, per-completion guest time) before fio resubmits",
         &Mechanisms::guest_vcpus},
    };
    return table;
}

std::string mechanism_names() { return names_of(mechanism_table()); }

Mechanisms resolve_mechanisms(const std::vector<std::string>& names) {
    Mechanisms m;
    for (size_t i = 0; i < names.size(); ++i) {
        const MechanismOps* ops = find_by_name(mechanism_table(), names[i]);
        if (!ops) throw std::invalid_argument("unknown mechanism '" + names[i] + "' (known: " + mechanism_names() + ")");
        if (std::find(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(i), names[i]) !=
            names.begin() + static_cast<std::ptrdiff_t>(i))
            throw std::invalid_argument("mechanism '" + names[i] + "' is listed twice");
        m.*(ops->flag) = true;
    }
    if (m.timer_notify && !m.timer_completions)
        throw std::invalid_argument("mechanism 'timer-notify' needs 'timer-completions' (the timers it reacts to)");
    if (m.dispatch_poll_gate && !m.timer_completions)
        throw std::invalid_argument("mechanism 'dispatch-poll-gate' needs 'timer-completions' (the timers it reacts to)");
    return m;
}

std::vector<std::string> mechanism_list(const Mechanisms& m) {
    std::vector<std::string> out;
    for (const auto& ops : mechanism_table())
        if (m.*(ops.flag)) out.emplace_back(ops.name);
    return out;
}

}  // namespace pollsim
