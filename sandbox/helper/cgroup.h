// A memory cgroup per sandbox, where the host lets us make one (root, cgroup v1 "memory" controller or
// cgroup v2 with the memory controller enabled). Best effort: without it the rlimits still apply.
//
// Why: RLIMIT_AS is per process, so 64 processes of 512 MiB each could ask the host for 32 GiB; a cgroup
// caps the sandbox as a whole (its tmpfs files included, since shmem is charged to the cgroup that
// touched it) and its OOM events tell memory_limit apart from other crashes exactly.
//
// Placement trick: init stays outside the cgroup (an OOM kill there would take the whole sandbox down);
// each phase child moves *itself* in by writing 0 to a cgroup.procs descriptor that the helper opened
// before cloning init (inside the sandbox the cgroup file system is invisible and not ours). The cgroup is
// a child of the helper's own cgroup, named r1-sandbox-<helper pid>-<n>; it is removed after the run, and
// leftovers of helpers that died are removed by the next helper.
#pragma once

#include <cstdint>
#include <string>

#include "sandbox/wire.h"

namespace r1::sandbox::helper {

class SandboxCgroup {
 public:
  SandboxCgroup() = default;
  ~SandboxCgroup();  // removes the cgroup (it must be empty: call after init was reaped)
  SandboxCgroup(const SandboxCgroup&) = delete;
  SandboxCgroup& operator=(const SandboxCgroup&) = delete;

  // Creates the cgroup with this memory limit. False (and nothing created) when unavailable.
  bool create(int64_t memory_limit_bytes);
  bool active() const { return procs_fd_ >= 0; }
  // The descriptor a phase child writes "0" to; -1 when inactive.
  int procs_fd() const { return procs_fd_; }
  // OOM kills inside the cgroup so far (0 when inactive).
  int64_t oom_kills() const;

 private:
  std::string dir_;
  bool v2_ = false;
  int procs_fd_ = -1;
};

// The cgroup limit of a job: the largest total_memory_bytes of its phases.
int64_t sandbox_memory_limit(const Job& job);

// Moves the calling process into the cgroup behind `procs_fd` (a phase child, before it drops its ids).
bool join_cgroup(int procs_fd);

// Removes r1-sandbox-<pid>-* cgroups left by helpers that are no longer alive.
void remove_stale_cgroups();

}  // namespace r1::sandbox::helper
