// The sandbox's file system, built by init inside its own mount namespace:
//
//   /            tmpfs, read-only once built (mode 0755, 16 MiB)
//   /usr /lib*   read-only, nosuid, nodev binds of the host's (or the same symlinks, on merged-/usr hosts)
//   /bin /sbin
//   /etc         only ld.so.cache, ld.so.conf(.d), alternatives, localtime, python3*/ (read-only binds)
//                plus synthetic passwd, group, hosts, hostname
//   /dev         null zero full random urandom (binds of the host's nodes), shm/ (tmpfs, 1777)
//   /work        tmpfs owned by the program, the job's files, the working directory
//   /tmp         tmpfs, 1777
//
// The trick that makes it cheap and leak-free: the new root is a tmpfs mounted over the host's /tmp *in
// our private mount namespace* (the host sees nothing), then pivot_root into it and detach the old root.
// No directory is ever created on the host, so there is nothing to clean up: when the last process of the
// namespace dies, the kernel frees every mount and tmpfs of it. Read-only bind remounts keep the source
// mount's nodev/noexec/atime flags, which the kernel insists on inside a user namespace ("locked" flags).
#pragma once

#include <string>

#include "sandbox/helper/util.h"
#include "sandbox/wire.h"

namespace r1::sandbox::helper {

// Builds the tree above and pivots into it; writes the job's files into /work owned by `program`.
// Returns an empty string on success, else what failed (with errno text).
std::string build_root_fs(const Job& job, const Identity& program);

}  // namespace r1::sandbox::helper
