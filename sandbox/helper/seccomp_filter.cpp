// See seccomp_filter.h. Names are resolved through libseccomp so that a syscall this architecture does
// not have (or the library does not know) is skipped rather than failing the build of the filter.
#include "sandbox/helper/seccomp_filter.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace r1::sandbox::helper {

namespace {

// Denied with EPERM.
const char* const kDenied[] = {
    // Inspecting or writing other processes.
    "ptrace", "process_vm_readv", "process_vm_writev", "process_madvise", "pidfd_getfd", "kcmp",
    "move_pages", "migrate_pages",
    // File systems and namespaces.
    "mount", "umount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr", "unshare", "setns", "open_by_handle_at", "name_to_handle_at",
    "quotactl", "quotactl_fd", "swapon", "swapoff", "acct", "nfsservctl", "lookup_dcookie", "fanotify_init",
    // Kernel, modules, tracing, keys.
    "kexec_load", "kexec_file_load", "reboot", "init_module", "finit_module", "delete_module",
    "create_module", "query_module", "get_kernel_syms", "bpf", "perf_event_open", "keyctl", "add_key",
    "request_key", "syslog", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "uselib", "_sysctl", "vm86", "vm86old", "iopl", "ioperm", "vhangup",
    // Host-wide state.
    "sethostname", "setdomainname", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
};

const unsigned long kNamespaceFlags[] = {CLONE_NEWNS,  CLONE_NEWUTS, CLONE_NEWIPC,   CLONE_NEWUSER,
                                         CLONE_NEWPID, CLONE_NEWNET, CLONE_NEWCGROUP, 0x00000080UL /*NEWTIME*/};

scmp_filter_ctx make_filter(bool rlimits_only, std::string* error) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == nullptr) {
    *error = "seccomp_init failed";
    return nullptr;
  }
  auto fail = [&](const char* what, int rc) -> void* {
    *error = std::string("seccomp: ") + what + ": " + std::strerror(-rc);
    seccomp_release(ctx);
    return nullptr;
  };
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
  if (rc != 0) return fail("bad-arch action", rc);
  rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1);
  if (rc != 0) return fail("no_new_privs attribute", rc);

  auto deny_name = [&](const char* name, int err) -> int {
    const int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) return 0;  // not on this architecture
    return seccomp_rule_add(ctx, SCMP_ACT_ERRNO(err), nr, 0);
  };
  for (const char* name : kDenied) {
    rc = deny_name(name, EPERM);
    if (rc != 0) return fail(name, rc);
  }
  if (rlimits_only) {
    for (const char* name : {"setsid", "setpgid"}) {
      rc = deny_name(name, EPERM);
      if (rc != 0) return fail(name, rc);
    }
  }
  rc = deny_name("clone3", ENOSYS);
  if (rc != 0) return fail("clone3", rc);
  for (unsigned long flag : kNamespaceFlags) {
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
    if (rc != 0) return fail("clone flags", rc);
  }
  for (unsigned long request : {static_cast<unsigned long>(TIOCSTI), static_cast<unsigned long>(TIOCLINUX)}) {
    rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                          SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, request));
    if (rc != 0) return fail("ioctl", rc);
  }
  return ctx;
}

// libseccomp 2.5 can only export to a descriptor: a memfd, read back as sock_filter instructions.
bool compile_to_bpf(scmp_filter_ctx ctx, std::vector<sock_filter>* out, std::string* error) {
  const int fd = static_cast<int>(syscall(SYS_memfd_create, "r1-seccomp", MFD_CLOEXEC));
  if (fd < 0) {
    *error = std::string("seccomp: memfd_create: ") + std::strerror(errno);
    return false;
  }
  const int rc = seccomp_export_bpf(ctx, fd);
  const off_t size = lseek(fd, 0, SEEK_END);
  bool ok = rc == 0 && size > 0 && size % sizeof(sock_filter) == 0;
  if (ok) {
    out->resize(static_cast<size_t>(size) / sizeof(sock_filter));
    ok = pread(fd, out->data(), static_cast<size_t>(size), 0) == size;
  }
  close(fd);
  if (!ok) *error = "seccomp: exporting the BPF program failed";
  return ok;
}

}  // namespace

const void* build_seccomp_filter(bool rlimits_only, std::string* error) {
  static std::vector<sock_filter> compiled[2];
  std::vector<sock_filter>& program = compiled[rlimits_only ? 1 : 0];
  if (!program.empty()) return &program;
  scmp_filter_ctx ctx = make_filter(rlimits_only, error);
  if (ctx == nullptr) return nullptr;
  const bool ok = compile_to_bpf(ctx, &program, error);
  seccomp_release(ctx);
  if (!ok) {
    program.clear();
    return nullptr;
  }
  return &program;
}

int load_seccomp_filter(const void* filter) {
  const auto& program = *static_cast<const std::vector<sock_filter>*>(filter);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) return -errno;
  return 0;
}

}  // namespace r1::sandbox::helper
