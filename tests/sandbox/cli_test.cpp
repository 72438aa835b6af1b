// `r1 sandbox run` from the command line (cli/cmd_sandbox.cpp), through the real binary: the output of
// several --stdin runs in order, and the isolation warning, which belongs to the UNSAFE rlimits-only mode
// only (a full-isolation run on a host with a memory cgroup reports "namespaces, memory cgroup" and must
// not warn). Skipped when the `r1` binary was not built.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_run.h"
#include "test_util.h"

namespace r1::sandbox {
namespace {

using testing::contains;

// A file in the temp dir holding `text`, removed when the object goes.
class TempFile {
 public:
  explicit TempFile(const std::string& text)
      : path_((std::filesystem::temp_directory_path() / testing::unique_token("r1-cli-test")).string()) {
    std::ofstream(path_) << text;
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

r1::testing::CliResult run_doubler(const std::string& extra_flags) {
  const TempFile program("read a; echo $((a * 2))\n");
  const TempFile first("1\n"), second("21\n");
  return r1::testing::run_r1_cli("sandbox run --lang bash --file " + program.path() + " --stdin " + first.path() +
                                 " --stdin " + second.path() + extra_flags);
}

TEST(SandboxCli, FullIsolationRunPrintsEachRunsOutputAndNoWarning) {
  if (access(R1_BINARY, X_OK) != 0) GTEST_SKIP() << "r1 binary not built: " << R1_BINARY;
  const r1::testing::CliResult cli = run_doubler("");
  EXPECT_EQ(cli.status, 0) << cli.err;
  EXPECT_EQ(cli.out, "2\n42\n");
  EXPECT_TRUE(contains(cli.err, "[sandbox] run 2: ok")) << cli.err;
  EXPECT_FALSE(contains(cli.err, "WARNING")) << cli.err;
}

TEST(SandboxCli, RlimitsOnlyRunWarns) {
  if (access(R1_BINARY, X_OK) != 0) GTEST_SKIP() << "r1 binary not built: " << R1_BINARY;
  const r1::testing::CliResult cli = run_doubler(" --unsafe-rlimits-only");
  EXPECT_EQ(cli.status, 0) << cli.err;
  EXPECT_EQ(cli.out, "2\n42\n");
  EXPECT_TRUE(contains(cli.err, std::string("[sandbox] WARNING: ") + kUnsafeIsolation)) << cli.err;
}

}  // namespace
}  // namespace r1::sandbox
