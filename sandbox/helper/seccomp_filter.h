// The seccomp filter every sandboxed process runs under (built with libseccomp, loaded right before exec).
//
// A deny list on top of default-allow, not an allow list: the runtimes we host (CPython with its
// extension modules, g++/cc1plus/as/ld, bash and coreutils) use a wide and version-dependent set of
// syscalls, and an allow list that misses one turns into mysterious runtime errors. What is denied is the
// kernel surface a contained process has no business with and that has a record of privilege escalation
// or escape (ptrace, mount API, namespaces, bpf, perf, keyrings, io_uring, userfaultfd, modules, kexec,
// TIOCSTI terminal injection, ...). Denied calls fail with EPERM (programs see an ordinary error); a
// syscall through a foreign ABI (i386 int 0x80, x32) kills the process, since the deny list is written
// for the native ABI only. clone3 answers ENOSYS so that glibc falls back to clone, whose flags we can
// inspect (clone3 passes them in memory, out of seccomp's reach).
#pragma once

#include <string>

namespace r1::sandbox::helper {

// The filter compiled to classic BPF once per process (libseccomp's own seccomp_load regenerates the
// program every time, a few milliseconds per phase). With rlimits_only, setsid/setpgid are denied as
// well so that every descendant stays in the program's process group (the only handle that mode has on
// the tree). Returns an opaque handle (stable for the process's life; copies made by fork stay valid),
// or nullptr with *error set. The helper server compiles both variants before forking any worker.
const void* build_seccomp_filter(bool rlimits_only, std::string* error);

// Sets no_new_privs and installs the compiled filter in the calling process. Returns 0 or -errno.
int load_seccomp_filter(const void* filter);

}  // namespace r1::sandbox::helper
