// The opt-in, UNSAFE mode for hosts that forbid namespaces: rlimits, seccomp (which additionally keeps
// every descendant in the program's process group), no_new_privs, a clean environment and, when the
// helper is root, the uid/gid of "nobody" — but the program sees the host's file system, network and
// processes. Every result says so in Result::isolation (kUnsafeIsolation, sandbox.h) and at the start of
// Result::message.
//
// The work dir is a fresh mkdtemp directory under /tmp, removed (without following symlinks) after the
// run; whatever the program wrote elsewhere stays, which is one of the reasons this mode is unsafe.
#pragma once

#include "sandbox/sandbox.h"
#include "sandbox/wire.h"

namespace r1::sandbox::helper {

Result run_rlimits_only(const Job& job);

}  // namespace r1::sandbox::helper
