// Running the real `r1` binary from a test: `run_r1_cli("tokenize --text hi")` returns the exit status,
// stdout and stderr separately (stderr goes through a per-process temp file). Shared by the CLI tests of
// every suite (R1_BINARY is defined for all test targets).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "common/fs.h"

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

}  // namespace r1::testing
