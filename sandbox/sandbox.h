// The sandbox: runs one untrusted program (Python 3, C++, C, bash, ...) written by a model under training,
// with Linux isolation, and reports what happened. Programs are assumed hostile.
//
// How a run works. run() hands the request to the helper executable `r1-sandbox-helper` (sandbox/helper/)
// over a socket: normally to a per-process helper *server* started on first use, which forks one worker
// per run; else (R1_SANDBOX_SERVER=0, or no server) to a helper started with posix_spawn for that run.
// The worker clones an "init" process into new user, PID, network, mount, IPC, UTS and cgroup namespaces.
// Init builds a private root on a tmpfs (read-only binds of /usr and the /lib* trees, a few read-only
// files of /etc, /dev/{null,zero,full,random,urandom}, writable tmpfs /work, /tmp and /dev/shm), pivots
// into it, writes the program and its files into /work, and then forks the program phases (compile, then
// one run per stdin case). Each phase child sets rlimits, drops every capability and switches to an
// unprivileged uid, sets no_new_privs, loads a seccomp filter and execs the runtime with a clean
// environment — or, for Python, runs the script in the interpreter the server initialised before forking
// (the "zygote", helper/python_zygote.h: a fork of a warm interpreter costs a fraction of a fresh python3,
// with the same confinement). The worker watches wall clocks and output caps and asks init to kill the
// namespace's processes when a limit is hit; when init exits the kernel kills whatever is left in the PID
// namespace, and the namespaces (with their tmpfs and mounts) vanish with it.
//
// Why a helper process and not fork() in the caller: the caller is a multi-threaded trainer holding GBs;
// forking it copies its page tables on every run, must restrict the child to async-signal-safe calls, and
// makes ru_maxrss report the trainer's memory instead of the program's. Talking to a separate small
// process costs well under a millisecond and none of that. Boost.Process is not used for the same
// reasons (it forks the whole caller and cannot return wait4 resource usage).
//
// THREAT MODEL.
// Covered (each has an adversarial test in tests/sandbox/):
//   - Reading host files: only /usr, /lib*, /bin, /sbin (read-only, as on the host) and the /etc files a
//     runtime needs (ld.so.cache, ld.so.conf*, alternatives, localtime) are visible; /etc/passwd, group and
//     hosts are synthetic; no /proc, /sys, /home, /root, /run, host /tmp.
//   - Secrets in the caller's environment: the program gets a fixed minimal environment plus only the
//     variables the caller lists in Request::env.
//   - Writing outside the work dir: the root is a read-only tmpfs; /work, /tmp, /dev/shm are private size-
//     capped tmpfs mounts that disappear with the run; RLIMIT_FSIZE caps each file.
//   - Network: an empty network namespace (loopback down, no interfaces): no route to anything, including
//     the host's loopback; abstract unix sockets of the host are in another namespace.
//   - Processes: fork bombs stop at RLIMIT_NPROC (per sandbox: user-namespace ucounts); the program sees only
//     its own PID namespace; signals to its parent (init) are ignored by the kernel; leftover background
//     processes are killed when the phase ends and nothing survives the run.
//   - Resources: wall clock per phase, RLIMIT_CPU, RLIMIT_AS, RLIMIT_NOFILE, RLIMIT_CORE=0, output caps,
//     and (when the helper is root and the host has a memory cgroup) one memory limit for all the
//     sandbox's processes and tmpfs files together (helper/cgroup.h).
//   - Privilege: unprivileged uid inside (a dedicated host uid when the caller is root), empty capability
//     sets and bounding set, locked securebits, no_new_privs (setuid binaries and file caps do nothing),
//     seccomp denying ptrace, process_vm_*, mount and the new mount API, unshare/setns/namespace clone
//     flags, kexec, modules, bpf, perf_event_open, keyctl, userfaultfd, io_uring, pidfd_getfd, TIOCSTI, ...
//     and killing the process on a foreign syscall ABI (x32, i386).
//   - The caller: a worker dies with its server (PDEATHSIG), the server when the caller's process ends (its
//     control socket closes), a per-run helper with the calling thread, and init with its worker; so a
//     crashed caller leaves nothing running. A caller that exits normally also leaves nothing unreaped:
//     at exit the library stops its server and reaps it, after the server killed and reaped everything
//     below it (helper_server.h; docs/sandbox.md, "Process lifetime").
// Not covered:
//   - Kernel exploits through the allowed syscall surface (this is not a VM; use gVisor/a VM for that).
//   - Side channels (timing, cache), CPU/memory contention with the host, and tmpfs memory (bounded by the
//     per-mount size caps, counted against the host, not the program's RLIMIT_AS).
//   - Peak memory is ru_maxrss (max over processes, not a sum). memory_limit comes from the cgroup's OOM
//     kills where there is one; RLIMIT_AS failures are inferred from the runtime's report (allocations
//     fail rather than raising an OOM event): see helper::classify(). Without a memory cgroup (not root,
//     or none offered) the whole sandbox may use max_processes x memory_bytes.
//   - Unprivileged callers (not root): the program keeps the caller's supplementary groups (the kernel
//     forbids dropping them without privilege) and runs as uid 0 inside without any capability.
//   - A host core_pattern that pipes core dumps to a program: the kernel runs it for a crashing sandboxed
//     process whatever RLIMIT_CORE says (a plain file pattern, as on our machines, is stopped by it).
//   - Isolation::rlimits_only (opt-in only) has none of the namespace properties; every result says so.
// In-process Python (the zygote) changes none of the above: the program process is confined the same way;
// its memory is a copy of the helper server's (which never held caller data), and the job's stdin, files
// and fd-3 bytes are wiped from that copy before the script starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace r1::sandbox {

enum class Status { ok, runtime_error, timeout, memory_limit, output_limit, compile_error, sandbox_error };

const char* status_name(Status status);                       // "ok", "runtime_error", ...
std::optional<Status> parse_status(const std::string& name);  // inverse of status_name

// Limits of one phase (the compile step or one run). Defaults are those of a run.
struct Limits {
  double wall_time_s = 10.0;                  // wall clock, from the phase's fork to its exit
  double cpu_time_s = 10.0;                   // RLIMIT_CPU per process (whole seconds, rounded up)
  int64_t memory_bytes = 512LL << 20;         // RLIMIT_AS (address space) per process
  int64_t total_memory_bytes = 1LL << 30;     // all processes + tmpfs files together (memory cgroup,
                                              // where the host allows one; the largest of the phases')
  int64_t max_processes = 64;                 // RLIMIT_NPROC: processes + threads of the sandbox user
  int64_t max_file_bytes = 64LL << 20;        // RLIMIT_FSIZE, and the size of each tmpfs (/work, /tmp, /dev/shm)
  int64_t max_open_files = 256;               // RLIMIT_NOFILE
  int64_t stack_bytes = 64LL << 20;           // RLIMIT_STACK (clamped to memory_bytes)
  int64_t stdout_bytes = 1LL << 20;           // kept stdout; more is output_limit
  int64_t stderr_bytes = 256LL << 10;         // kept stderr; more is output_limit
};

// The limits used for compiling (g++ on <bits/stdc++.h> needs ~300 MB and a few seconds).
Limits default_compile_limits();

enum class Isolation {
  namespaces,    // the full isolation described above (default; fails clearly when the host forbids it)
  rlimits_only,  // UNSAFE opt-in for hosts without namespaces: rlimits + seccomp + clean env only
};

struct File {
  std::string path;      // relative to the work dir; no "..", no leading '/'
  std::string content;
  bool executable = false;
};

struct Request {
  std::string language = "python";  // a name or alias from languages.h
  std::string source;               // written to the language's main file (main.py, main.cpp, ...)
  std::vector<File> files;          // extra files in the work dir
  std::vector<std::string> args;    // extra arguments after the program
  // The stdin of each run: the program is compiled once and run once per entry, in the same sandbox (the
  // work dir persists between runs). Empty means one run with empty stdin.
  std::vector<std::string> inputs;
  bool stop_on_failure = false;     // skip the remaining runs after the first non-ok one
  // Environment: a fixed minimal set (PATH, HOME=/work, TMPDIR=/tmp, LANG=C.UTF-8) plus these. Nothing
  // from the caller's environment is passed unless it is listed here.
  std::vector<std::pair<std::string, std::string>> env;
  // Bytes readable on fd 3 (a pipe) of every run, e.g. a per-run secret for a test harness; empty means
  // fd 3 is not open. Never in a file, argv or the environment.
  std::string fd3_data;
  Limits limits;
  Limits compile_limits = default_compile_limits();
  Isolation isolation = Isolation::namespaces;
  // Python may start as a fork of the helper server's warm interpreter (several times cheaper than a
  // fresh python3; see sandbox/helper/python_zygote.h for what differs). false (or R1_SANDBOX_ZYGOTE=0 in
  // the environment): always exec python3.
  bool allow_zygote = true;
};

// One process phase: the compile step or one run.
struct Execution {
  Status status = Status::sandbox_error;
  int exit_code = -1;  // when the process exited; -1 when it was killed by a signal or never ran
  int signal = 0;      // the terminating signal, 0 if none
  std::string stdout_data, stderr_data;
  bool stdout_truncated = false, stderr_truncated = false;  // truncated text ends with a marker line
  double wall_time_s = 0.0;
  double cpu_time_s = 0.0;        // user + system of the program and every descendant
  int64_t peak_memory_bytes = 0;  // largest ru_maxrss among the phase's processes
  std::string message;            // why, for everything but ok ("wall time limit 2 s", "exec failed: ...")
};

struct Result {
  Status status = Status::sandbox_error;  // ok only if the compile step and every run are ok
  std::optional<Execution> compile;        // compiled languages only
  std::vector<Execution> runs;             // one per input that was run
  std::string message;                     // sandbox_error / compile_error detail, else the first failure
  // What confined the program: "namespaces" or "namespaces, memory cgroup" (full isolation), or
  // kUnsafeIsolation for every rlimits-only run; empty when no helper ran.
  std::string isolation;
  // The first run (most requests have one); throws r1::Error if none ran.
  const Execution& run() const;
};

// Runs the request (blocking). Bad requests (unknown language, bad file path) and hosts that forbid the
// isolation come back as Status::sandbox_error with a message; this function does not throw for them.
Result run(const Request& request);

// The helper executable: set_helper_path(), else $R1_SANDBOX_HELPER (either, when set, must name an
// executable: no fallback), else r1-sandbox-helper next to the running binary (or in ../sandbox/ of it,
// the build-tree layout), else the path of the build that compiled this library. Throws r1::Error naming
// the places looked at when none exists.
std::string helper_path();
void set_helper_path(const std::string& path);

// Whether full isolation works on this host: runs a no-op through the helper. Empty string when it does,
// else the reason (the same message run() would give).
std::string probe_isolation();

// Result::isolation of every Isolation::rlimits_only run, and nothing else: the loud warning.
inline constexpr const char* kUnsafeIsolation =
    "rlimits-only (UNSAFE: no namespaces; the program can read host files, use the network and see host "
    "processes)";

// Appended to truncated stdout/stderr.
inline constexpr const char* kTruncationMarker = "\n[r1 sandbox: output truncated]\n";

}  // namespace r1::sandbox
