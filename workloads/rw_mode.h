// fio's rw= values as (operation, random access).
#pragma once
#include <string>

#include "sim/request.h"

namespace pollsim {

struct RwMode {
    Op op;
    bool random;
};

inline RwMode parse_rw(const std::string& rw) {
    if (rw == "read") return {Op::read, false};
    if (rw == "write") return {Op::write, false};
    if (rw == "randwrite") return {Op::write, true};
    return {Op::read, true};  // randread; the config loader admits only these four
}

}  // namespace pollsim
