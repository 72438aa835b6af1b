// Scratch space for tests: ScratchDirTest, a fixture with a fresh directory per test (kept when the test
// failed, for a look; removed otherwise), and scratch_file(), a file in a directory of this test process for
// tests that need no fixture. Shared by the suites (tests/ is on every test target's include path).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "common/fs.h"

namespace r1::testing {

// Writes `content` to <temp>/r1_test_<pid>/name and returns the path.
inline std::string scratch_file(const std::string& name, const std::string& content) {
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("r1_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / name).string();
  write_file_atomic(path, content);
  return path;
}

class ScratchDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / ("r1_" + std::string(test->test_suite_name()) + "_" +
                                                     std::to_string(::getpid()) + "_" + test->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }
  // dir_/rel.
  std::string path(const std::string& rel) const { return (dir_ / rel).string(); }
  // Writes dir_/name; returns its path.
  std::string file(const std::string& name, const std::string& content) const {
    const std::string p = path(name);
    write_file_atomic(p, content);
    return p;
  }

  std::filesystem::path dir_;
};

}  // namespace r1::testing
