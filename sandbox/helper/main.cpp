// r1-sandbox-helper: the process between the r1 library and a sandboxed program (see sandbox/sandbox.h).
// Usage (by run() only): r1-sandbox-helper PARENT_PID, a Job on stdin, the Result on stdout.
//
// It dies with the thread that spawned it (PDEATHSIG, checked against PARENT_PID for the race where the
// parent is already gone), keeps no descriptor it did not expect, and never writes anything but the
// encoded Result to stdout, so the library can tell "the sandbox reported X" from "the helper crashed".
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <stdexcept>
#include <string>

#include "sandbox/helper/jail.h"
#include "sandbox/helper/unsafe.h"
#include "sandbox/helper/util.h"
#include "sandbox/wire.h"

int main(int argc, char** argv) {
  using namespace r1::sandbox;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PARENT_PID < job > result (started by the r1 sandbox library)\n", argv[0]);
    return 2;
  }
  const long parent = std::strtol(argv[1], nullptr, 10);
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  if (getppid() != parent) return 3;
  helper::close_fds_from(3);
  signal(SIGPIPE, SIG_IGN);

  Result result;
  try {
    std::string input;
    if (!helper::read_all(0, &input)) throw std::runtime_error("reading the job: " + helper::errno_text(errno));
    const Job job = decode_job(input);
    input.clear();
    input.shrink_to_fit();
    result = job.isolation == Isolation::namespaces ? helper::run_in_namespaces(job) : helper::run_rlimits_only(job);
  } catch (const std::exception& e) {
    result = Result();
    result.status = Status::sandbox_error;
    result.message = std::string("sandbox helper: ") + e.what();
  }
  const std::string encoded = encode_result(result);
  return helper::write_all(1, encoded.data(), encoded.size()) ? 0 : 1;
}
