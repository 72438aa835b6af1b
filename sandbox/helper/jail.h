// The namespace sandbox: clone init into fresh user/PID/mount/network/IPC/UTS/cgroup namespaces, map its
// ids, let it build the private root (root_fs.h) and run the phases, and supervise it.
//
// Identity. When the helper is root (as in our containers and CI) it maps two host ids that nothing else
// uses: inside uid/gid 0 -> host 2147000000 (init, which needs to be root inside to mount) and inside
// 1000 -> host 2147001000 (the program). The program therefore has a different host uid than init (it
// cannot signal it, even without the PID-namespace protection of pid 1), owns nothing on the host, and
// host files appear as owned by "nobody". When root cannot map those ids (a rootless container), or the
// helper is not root, it maps only itself (inside 0 -> its own uid) and the program stays uid 0 inside
// with every capability removed and SECBIT_NOROOT locked, which is what unprivileged user namespaces allow.
#pragma once

#include "sandbox/sandbox.h"
#include "sandbox/wire.h"

namespace r1::sandbox::helper {

// Host ids used for the sandbox when the helper is root.
inline constexpr unsigned kHostIdInit = 2147000000u;
inline constexpr unsigned kHostIdProgram = 2147001000u;
inline constexpr unsigned kInsideIdProgram = 1000u;

Result run_in_namespaces(const Job& job);

}  // namespace r1::sandbox::helper
