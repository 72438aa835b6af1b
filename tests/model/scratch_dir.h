// Scratch directories of a test suite: one root per test process (<tmp>/<prefix><pid>), removed when the
// suite ends, with a fresh sub-directory per test. Register the removal once per suite file:
//   [[maybe_unused]] ::testing::Environment* const kRemove =
//       ::testing::AddGlobalTestEnvironment(new r1::testing::RemoveScratchRoot(my_root()));
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

namespace r1::testing {

inline std::string scratch_root(const std::string& prefix) {
  return (std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()))).string();
}

class RemoveScratchRoot : public ::testing::Environment {
 public:
  explicit RemoveScratchRoot(std::string root) : root_(std::move(root)) {}
  void TearDown() override { std::filesystem::remove_all(root_); }

 private:
  std::string root_;
};

// root/tag, emptied and created.
inline std::string fresh_dir(const std::string& root, const std::string& tag) {
  const std::filesystem::path dir = std::filesystem::path(root) / tag;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir.string();
}

}  // namespace r1::testing
