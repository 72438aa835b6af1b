// The local launcher: starts N copies of a command as the ranks 0..N-1 of one job on this node, the way
// torchrun does (each child gets RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), and
// stays beside them until they end:
//   * each rank runs in a process group of its own, so a terminal's Ctrl-C reaches the launcher alone; SIGINT /
//     SIGTERM to the launcher is forwarded to every rank, once (each checkpoints and stops, as a single
//     process does); the launcher then waits for every rank however long its checkpoint takes (a second
//     Ctrl-C, forwarded too, ends the ranks at once);
//   * a rank that exits with a non-zero status or is killed ends the job: the launcher says which rank and
//     how, sends SIGTERM to the others, SIGKILL to those still running after `grace`, and returns that rank's
//     status (128 + signal for a killed one) — never a silent hang. A rank that hangs inside a collective is
//     found by its peers' collective timeouts (dist/world.h): they fail, and the launcher ends the rest.
// Multi-node jobs are not launched by r1: torchrun, SLURM or Kubernetes start one r1 per rank with the same
// variables (docs/scaling.md).
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace r1::dist {

struct LaunchOptions {
  int nproc = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 0;                         // 0: a port that is free on this machine
  std::chrono::milliseconds grace{10000};      // SIGTERM → SIGKILL of the remaining ranks
};

struct LaunchResult {
  int status = 0;          // 0 when every rank exited 0; else the first failed rank's exit status (128 + signal)
  int failed_rank = -1;    // that rank (-1: none, or the job was interrupted by SIGINT/SIGTERM)
  std::string message;     // "rank 1 was killed by signal 9 (Killed)", "" when status is 0
};

// Runs argv (argv[0] an executable path; its environment is this process's plus torchrun's variables) as
// nproc ranks until they end. Progress and failures are also reported on stderr as they happen. Children of
// this process that are not its ranks are left alone.
LaunchResult launch_local(const std::vector<std::string>& argv, const LaunchOptions& options);

// A TCP port free on the loopback interface at the time of the call.
int free_local_port();

}  // namespace r1::dist
