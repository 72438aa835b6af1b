// Process and descriptor lifetime of the sandbox: whatever the library, the helper server and its workers
// start is reaped by someone of ours before the caller moves on or exits, and runs leave no descriptor
// behind. A long-lived trainer makes thousands of runs, and `r1 sandbox run` must not leave its helper
// as a zombie for init (see "Process lifetime" in docs/sandbox.md).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <string>
#include <vector>

#include "cli_run.h"
#include "sandbox/pool.h"
#include "test_util.h"

namespace r1::sandbox {
namespace {

using testing::describe;
using testing::descendants_of;
using testing::HostProcess;
using testing::open_fd_count;
using testing::zombies_below;

// The cheapest run the sandbox offers: bash's `exit` (no compile step, no interpreter start-up beyond
// bash's own, no output).
Request cheapest_request() {
  Request request = testing::request_for("bash", "exit 0\n", testing::quick_limits());
  return request;
}

TEST(SandboxLifetime, AThousandPoolRunsLeaveNoZombieAndNoDescriptor) {
  Pool pool(4);
  // The warm-up starts the helper server (if no earlier test did): its control socket is the one
  // descriptor the library keeps for good.
  const Result warm = pool.submit(cheapest_request()).get();
  ASSERT_EQ(warm.status, Status::ok) << warm.message;
  const int fds_before = open_fd_count();
  ASSERT_GT(fds_before, 0);

  const std::vector<Request> requests(1000, cheapest_request());
  int failed = 0;
  for (const Result& r : pool.run_all(requests)) failed += r.status != Status::ok;
  EXPECT_EQ(failed, 0);

  EXPECT_EQ(open_fd_count(), fds_before);
  const std::vector<HostProcess> zombies = zombies_below(getpid());
  EXPECT_TRUE(zombies.empty()) << describe(zombies);
}

// Ctrl-C at a terminal, or a job runner's SIGTERM, goes to the caller's whole process group. A trainer that
// handles it finishes its step, with sandbox runs; a helper server in the caller's group would die of it
// instead, taking its workers and inits along (left to init, and every run of that step a sandbox_error).
TEST(SandboxLifetime, HelperServerIsNotInTheCallersProcessGroup) {
  const Result warm = run(cheapest_request());
  ASSERT_EQ(warm.status, Status::ok) << warm.message;
  int servers = 0;
  for (const HostProcess& p : descendants_of(getpid())) {
    if (p.ppid != getpid() || p.comm != "r1-sandbox-help") continue;
    ++servers;
    EXPECT_NE(p.pgrp, getpgrp()) << describe({p});
  }
  EXPECT_EQ(servers, 1);
}

// Makes this process a child subreaper for the lifetime of the object: processes orphaned below us come
// back to us instead of to init, so a helper that outlives its parent stays visible (alive or zombie)
// until we reap it.
class SubreaperScope {
 public:
  SubreaperScope() { ok_ = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0; }
  ~SubreaperScope() { (void)prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0); }
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
};

std::set<int> pids_of(const std::vector<HostProcess>& processes) {
  std::set<int> pids;
  for (const HostProcess& p : processes) pids.insert(p.pid);
  return pids;
}

// Processes below us now that were not below us in `before`.
std::vector<HostProcess> new_descendants(const std::set<int>& before) {
  std::vector<HostProcess> fresh;
  for (const HostProcess& p : descendants_of(getpid())) {
    if (before.count(p.pid) == 0) fresh.push_back(p);
  }
  return fresh;
}

// Kills and reaps what a failing test left with us (as the subreaper, what they leave comes back to us
// too), so that one failure does not spill into other tests.
void reap_leftovers(const std::set<int>& before) {
  for (int pass = 0; pass < 100; ++pass) {
    bool reaped = false;
    for (const HostProcess& p : new_descendants(before)) {
      if (p.ppid != getpid()) continue;  // its parent goes first, and hands it to us
      kill(p.pid, SIGKILL);
      while (waitpid(p.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      reaped = true;
    }
    if (!reaped) return;
  }
}

std::string write_program(const std::string& source) {
  const std::string path =
      (std::filesystem::temp_directory_path() / (testing::unique_token("r1-lifetime") + ".sh")).string();
  std::ofstream(path) << source;
  return path;
}

// `r1 sandbox run` exits normally (status 0) and through std::exit (status 3, a failing program): either
// way, once it is gone, no helper process of it may be left alive or as a zombie.
TEST(SandboxLifetime, CliRunLeavesNoHelperBehind) {
  if (access(R1_BINARY, X_OK) != 0) GTEST_SKIP() << "r1 binary not built: " << R1_BINARY;
  const std::vector<std::pair<std::string, int>> programs = {{"echo hi\n", 0}, {"exit 7\n", 3}};
  for (const auto& [source, expected_status] : programs) {
    const std::string file = write_program(source);
    std::vector<HostProcess> leftovers;
    r1::testing::CliResult cli;
    {
      SubreaperScope subreaper;
      ASSERT_TRUE(subreaper.ok()) << "prctl(PR_SET_CHILD_SUBREAPER): " << std::strerror(errno);
      const std::set<int> before = pids_of(descendants_of(getpid()));  // our own helper server, if any
      cli = r1::testing::run_r1_cli("sandbox run --lang bash --file " + file);
      leftovers = new_descendants(before);
      reap_leftovers(before);
    }
    std::filesystem::remove(file);
    EXPECT_EQ(cli.status, expected_status) << source << cli.err;
    EXPECT_TRUE(leftovers.empty()) << "left behind by `r1 sandbox run` of " << source << describe(leftovers);
  }
}

constexpr const char* kChildMarkerEnv = "R1_LIFETIME_TEST_CHILD";
constexpr const char* kChildUnsafeEnv = "R1_LIFETIME_TEST_UNSAFE";

// The child side of the tests below: starts a run that would last 1000 s, with a background process of
// its own, waits until that process is on the host's process table, and exits with the run in flight.
int exit_with_a_run_in_flight(const std::string& marker, Isolation isolation) {
  Pool pool(1);
  Request request = testing::request_for("bash", "(exec -a " + marker + " sleep 1000) &\nexec sleep 1000\n",
                                         testing::quick_limits(1000.0));
  request.isolation = isolation;
  std::future<Result> in_flight = pool.submit(request);
  for (int i = 0; i < 600 && testing::host_processes_with(marker).empty(); ++i) usleep(100 * 1000);
  if (testing::host_processes_with(marker).empty()) return 10;  // never started: the test cannot tell
  std::exit(0);  // atexit handlers and static destructors run; the run's pool thread is still waiting
}

// A caller that exits while a sandbox program runs: the helper server, its worker, the sandbox's init and
// the program's processes all end, and none is left alive or as a zombie (as the subreaper, we would get
// them). Runs the child side in a fresh exec of this binary, so it starts single-threaded and clean.
void expect_exit_in_flight_leaves_nothing(Isolation isolation) {
  const std::string marker = testing::unique_token("r1-in-flight");
  std::vector<HostProcess> leftovers;
  int status = 0;
  {
    SubreaperScope subreaper;
    ASSERT_TRUE(subreaper.ok()) << "prctl(PR_SET_CHILD_SUBREAPER): " << std::strerror(errno);
    const std::set<int> before = pids_of(descendants_of(getpid()));
    const pid_t pid = fork();
    ASSERT_GE(pid, 0) << std::strerror(errno);
    if (pid == 0) {
      setenv(kChildMarkerEnv, marker.c_str(), 1);
      if (isolation == Isolation::rlimits_only) setenv(kChildUnsafeEnv, "1", 1);
      execl("/proc/self/exe", "sandbox-tests", "--gtest_filter=SandboxLifetime.ExitChildSide",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    leftovers = new_descendants(before);
    reap_leftovers(before);
  }
  ASSERT_TRUE(WIFEXITED(status)) << status;
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_TRUE(leftovers.empty()) << describe(leftovers);
  EXPECT_TRUE(testing::host_processes_with(marker).empty());
}

TEST(SandboxLifetime, ExitWithARunInFlightLeavesNothing) {
  if (std::getenv(kChildMarkerEnv) != nullptr) GTEST_SKIP() << "child side";
  expect_exit_in_flight_leaves_nothing(Isolation::namespaces);
}

// Without namespaces nothing kills the program's background process with init: the server must find it
// among the orphans that come back to it.
TEST(SandboxLifetime, ExitWithAnUnsafeRunInFlightLeavesNothing) {
  if (std::getenv(kChildMarkerEnv) != nullptr) GTEST_SKIP() << "child side";
  expect_exit_in_flight_leaves_nothing(Isolation::rlimits_only);
}

TEST(SandboxLifetime, ExitChildSide) {
  const char* marker = std::getenv(kChildMarkerEnv);
  if (marker == nullptr) GTEST_SKIP() << "runs only as the child of the tests above";
  const bool unsafe = std::getenv(kChildUnsafeEnv) != nullptr;
  std::exit(exit_with_a_run_in_flight(marker, unsafe ? Isolation::rlimits_only : Isolation::namespaces));
}

}  // namespace
}  // namespace r1::sandbox
