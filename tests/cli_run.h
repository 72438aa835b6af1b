// Running the real `r1` binary from a test: `run_r1_cli("tokenize --text hi")` returns the exit status,
// stdout and stderr separately (stderr goes through a per-process temp file). Shared by the CLI tests of
// every suite (R1_BINARY is defined for all test targets). CliTest is a fixture for such tests: skipped
// when the binary has not been built, with a scratch directory per test (scratch_dir.h).
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/fs.h"
#include "scratch_dir.h"

namespace r1::testing {

struct CliResult {
  int status = -1;  // exit status, -1 when the process did not exit normally
  std::string out, err;
};

inline CliResult run_r1_cli(const std::string& args) {
  namespace fs = std::filesystem;
  const std::string err_file = (fs::temp_directory_path() / ("r1_cli_stderr_" + std::to_string(::getpid()))).string();
  const std::string cmd = std::string(R1_BINARY) + " " + args + " 2>" + err_file;
  CliResult r;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = fs::exists(err_file) ? read_file(err_file) : "";
  fs::remove(err_file);
  return r;
}

// Skips when the binary has not been built (a suite's target does not depend on it; scripts/test.sh builds
// everything first); dir_ is a fresh directory per test and file() writes inputs into it.
class CliTest : public ScratchDirTest {
 protected:
  using Result = CliResult;
  static Result run(const std::string& args) { return run_r1_cli(args); }

  void SetUp() override {
    if (!std::filesystem::exists(R1_BINARY)) GTEST_SKIP() << "r1 binary not built: " << R1_BINARY;
    ScratchDirTest::SetUp();
  }
};

}  // namespace r1::testing
