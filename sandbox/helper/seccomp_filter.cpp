// See seccomp_filter.h. Names are resolved through libseccomp so that a syscall this architecture does
// not have (or the library does not know) is skipped rather than failing the build of the filter.
#include "sandbox/helper/seccomp_filter.h"

#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>

#include <cstring>

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

}  // namespace

void* build_seccomp_filter(bool rlimits_only, std::string* error) {
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

int load_seccomp_filter(void* filter) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  return seccomp_load(static_cast<scmp_filter_ctx>(filter));
}

}  // namespace r1::sandbox::helper
