// Helpers shared by the test files.
#pragma once
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <unistd.h>

#include "sim/error.h"

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

}  // namespace pollsim::test
