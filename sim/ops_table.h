// Lookup in a name -> operations table (policies, workloads), as fio looks
// up its ioengines: every row has a `const char* name`.
#pragma once
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace pollsim {

template <typename Ops>
const Ops* find_by_name(const std::vector<Ops>& table, std::string_view name) {
    auto it = std::find_if(table.begin(), table.end(), [&](const Ops& o) { return name == o.name; });
    return it == table.end() ? nullptr : &*it;
}

// "a, b, c" for messages and --help.
template <typename Ops>
std::string names_of(const std::vector<Ops>& table) {
    std::string out;
    for (const auto& o : table) out += (out.empty() ? "" : ", ") + std::string(o.name);
    return out;
}

}  // namespace pollsim
