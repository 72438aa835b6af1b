// The adversarial suite: each test attacks one property of the sandbox with a hostile program and checks
// from the outside that the property held (see the threat model in sandbox/sandbox.h).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

#include "test_util.h"

namespace r1::sandbox {
namespace {

using testing::contains;
using testing::host_processes_with;
using testing::quick_limits;
using testing::request_for;
using testing::run_program;
using testing::unique_token;

// A non-blocking socket of `type` (SOCK_STREAM: listening) bound to the host's loopback at a free port.
struct LoopbackServer {
  int fd = -1;
  int port = 0;
};
LoopbackServer loopback_server(int type) {
  LoopbackServer s;
  s.fd = socket(AF_INET, type | SOCK_NONBLOCK, 0);
  if (s.fd < 0) return s;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return s;
  if (type == SOCK_STREAM && listen(s.fd, 4) != 0) return s;
  socklen_t len = sizeof addr;
  getsockname(s.fd, reinterpret_cast<sockaddr*>(&addr), &len);
  s.port = ntohs(addr.sin_port);
  return s;
}

// A C++ program that calls getpid through the raw system-call gate `gate` (an asm statement that leaves the
// result in r) and prints what it got.
Result run_raw_getpid(const std::string& gate) {
  return run_program("cpp", "#include <cstdio>\nint main(){ long r; " + gate + "; std::printf(\"got %ld\\n\", r); }\n",
                     quick_limits(20.0));
}

TEST(Adversarial, ForkBombIsContainedAndLeavesNothing) {
  const std::string marker = unique_token("r1-forkbomb");
  Limits limits = quick_limits(3.0);
  const Result r = run_program("python", "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
                               limits, {}, {marker});
  ASSERT_EQ(r.runs.size(), 1u) << r.message;
  EXPECT_EQ(r.status, Status::timeout) << r.message;
  EXPECT_TRUE(host_processes_with(marker).empty());
  // The host can still create processes.
  EXPECT_EQ(std::system("/bin/true"), 0);
}

TEST(Adversarial, ForkBombStopsAtTheProcessLimit) {
  Limits limits = quick_limits();
  limits.max_processes = 16;
  const Result r = run_program("python",
                               "import os, time\nn = 0\ntry:\n    while True:\n        if os.fork() == 0:\n"
                               "            time.sleep(60)\n        n += 1\nexcept OSError as e:\n    print('stopped', n, e.errno)\n",
                               limits);
  ASSERT_EQ(r.status, Status::ok) << r.message;
  // EAGAIN at the 16th process of the sandbox user (at the 15th for an unprivileged caller, whose init
  // shares the program's uid).
  EXPECT_TRUE(contains(r.run().stdout_data, "stopped 15 11") || contains(r.run().stdout_data, "stopped 14 11"))
      << r.run().stdout_data;
}

TEST(Adversarial, MemoryBombHitsTheMemoryLimit) {
  Limits limits = quick_limits(20.0);
  limits.memory_bytes = 128LL << 20;
  const Result r = run_program("python", "x = []\nwhile True:\n    x.append(bytearray(1 << 20))\n", limits);
  EXPECT_EQ(r.status, Status::memory_limit) << r.message << r.run().stderr_data;
  EXPECT_LE(r.run().peak_memory_bytes, 140LL << 20);
}

TEST(Adversarial, CppMemoryBombHitsTheMemoryLimit) {
  Limits limits = quick_limits(20.0);
  limits.memory_bytes = 128LL << 20;
  const Result r = run_program("cpp",
                               "#include <vector>\n#include <cstring>\nint main(){ std::vector<char*> v; for(;;){ char* p = new "
                               "char[1<<20]; std::memset(p, 1, 1<<20); v.push_back(p);} }\n",
                               limits);
  EXPECT_EQ(r.status, Status::memory_limit) << r.message;
}

TEST(Adversarial, MemoryBombAcrossProcessesIsBoundedAsAWhole) {
  // 16 processes x 96 MiB, each under its own 256 MiB address-space limit, against 512 MiB for the whole
  // sandbox: the memory cgroup must kill some of them.
  Limits limits = quick_limits(30.0);
  limits.memory_bytes = 256LL << 20;
  limits.total_memory_bytes = 512LL << 20;
  const Result r = run_program("python",
                               "import os, time\nkids = []\nfor i in range(16):\n    pid = os.fork()\n    if pid == 0:\n"
                               "        x = bytearray(96 << 20)\n        for j in range(0, len(x), 4096):\n            x[j] = 1\n"
                               "        time.sleep(1)\n        os._exit(0)\n    kids.append(pid)\n"
                               "killed = sum(os.waitstatus_to_exitcode(os.waitpid(p, 0)[1]) == -9 for p in kids)\n"
                               "print('killed', killed)\n",
                               limits);
  if (!contains(r.isolation, "memory cgroup")) GTEST_SKIP() << "no memory cgroup on this host: " << r.isolation;
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_FALSE(contains(r.run().stdout_data, "killed 0")) << r.run().stdout_data;
}

TEST(Adversarial, WholeSandboxMemoryLimitIsReportedAsMemoryLimit) {
  Limits limits = quick_limits(30.0);
  limits.memory_bytes = 2LL << 30;          // the address-space limit would allow it...
  limits.total_memory_bytes = 256LL << 20;  // ...the sandbox as a whole does not
  const Result r = run_program("python", "x = bytearray(600 << 20)\nfor j in range(0, len(x), 4096):\n    x[j] = 1\n", limits);
  if (!contains(r.isolation, "memory cgroup")) GTEST_SKIP() << "no memory cgroup on this host: " << r.isolation;
  EXPECT_EQ(r.status, Status::memory_limit) << r.message;
  EXPECT_TRUE(contains(r.run().message, "whole sandbox")) << r.run().message;
}

TEST(Adversarial, CpuLoopHitsTheCpuLimit) {
  Limits limits = quick_limits(30.0);
  limits.cpu_time_s = 1.0;
  const Result r = run_program("python", "while True:\n    pass\n", limits);
  EXPECT_EQ(r.status, Status::timeout) << r.message;
  EXPECT_TRUE(contains(r.run().message, "CPU")) << r.run().message;
  EXPECT_GE(r.run().cpu_time_s, 0.5);  // it did burn CPU (rusage and the rlimit clock differ slightly)
}

TEST(Adversarial, SleepPastTheWallLimitIsKilledAtTheLimit) {
  const Result r = run_program("python", "import time\nprint('before', flush=True)\ntime.sleep(600)\nprint('after')\n",
                               quick_limits(1.0));
  EXPECT_EQ(r.status, Status::timeout) << r.message;
  EXPECT_TRUE(contains(r.run().message, "wall")) << r.run().message;
  EXPECT_GE(r.run().wall_time_s, 1.0);
  EXPECT_EQ(r.run().stdout_data, "before\n");  // output up to the kill is kept
}

TEST(Adversarial, IgnoringSignalsDoesNotSurviveTheTimeout) {
  const Result r = run_program("python",
                               "import signal, time, os\nfor s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):\n"
                               "    signal.signal(s, signal.SIG_IGN)\ntry:\n    os.setsid()\nexcept OSError:\n    os.setpgid(0, 0)\n"
                               "while True:\n    time.sleep(1)\n",
                               quick_limits(1.0));
  EXPECT_EQ(r.status, Status::timeout) << r.message;
  EXPECT_EQ(r.run().signal, SIGKILL);
}

TEST(Adversarial, HugeOutputIsCappedAndMarked) {
  Limits limits = quick_limits(10.0);
  limits.stdout_bytes = 100000;
  const Result r = run_program("python", "import sys\nwhile True:\n    sys.stdout.write('y' * 65536)\n", limits);
  EXPECT_EQ(r.status, Status::output_limit) << r.message;
  EXPECT_TRUE(r.run().stdout_truncated);
  EXPECT_EQ(r.run().stdout_data.size(), 100000 + std::string(kTruncationMarker).size());
  EXPECT_TRUE(contains(r.run().stdout_data, "output truncated"));
}

TEST(Adversarial, HugeStderrIsCappedToo) {
  Limits limits = quick_limits(10.0);
  limits.stderr_bytes = 5000;
  const Result r = run_program("bash", "while true; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx >&2; done\n", limits);
  EXPECT_EQ(r.status, Status::output_limit) << r.message;
  EXPECT_TRUE(r.run().stderr_truncated);
}

TEST(Adversarial, HugeFileStopsAtTheFileSizeLimit) {
  Limits limits = quick_limits(10.0);
  limits.max_file_bytes = 8LL << 20;
  const Result r = run_program("python", "with open('big', 'wb') as f:\n    while True:\n        f.write(b'z' * (1 << 20))\n", limits);
  // CPython ignores SIGXFSZ, so the write fails with EFBIG instead of the signal killing it.
  EXPECT_EQ(r.status, Status::runtime_error) << r.message;
  EXPECT_TRUE(contains(r.run().stderr_data, "File too large")) << r.run().stderr_data;
}

TEST(Adversarial, FillingTheTmpfsFailsInsideOnly) {
  Limits limits = quick_limits(10.0);
  limits.max_file_bytes = 4LL << 20;
  // Many files each under RLIMIT_FSIZE: the tmpfs size cap stops them.
  const Result r = run_program("python",
                               "import errno\ni = 0\ntry:\n    while True:\n        with open(f'/tmp/f{i}', 'wb') as f:\n"
                               "            f.write(b'z' * (1 << 20))\n        i += 1\nexcept OSError as e:\n"
                               "    print('full', e.errno == errno.ENOSPC)\n",
                               limits);
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_TRUE(contains(r.run().stdout_data, "full True")) << r.run().stdout_data;
}

TEST(Adversarial, NoConnectionToAServerOnTheHostLoopback) {
  const LoopbackServer server = loopback_server(SOCK_STREAM);
  ASSERT_GE(server.fd, 0);
  ASSERT_GT(server.port, 0);  // bound and listening
  const Result r = run_program("python",
                               "import socket\nfor host in ('127.0.0.1', 'localhost', '::1'):\n    try:\n"
                               "        socket.create_connection((host, " + std::to_string(server.port) + "), timeout=2)\n"
                               "        print('CONNECTED', host)\n    except OSError as e:\n        print('refused', host, e.errno)\n",
                               quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_FALSE(contains(r.run().stdout_data, "CONNECTED")) << r.run().stdout_data;
  EXPECT_LT(accept(server.fd, nullptr, nullptr), 0);  // nothing ever arrived
  close(server.fd);
}

TEST(Adversarial, NoDatagramReachesTheHostLoopback) {
  const LoopbackServer server = loopback_server(SOCK_DGRAM);
  ASSERT_GE(server.fd, 0);
  ASSERT_GT(server.port, 0);  // bound
  const Result r = run_program("python",
                               "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ntry:\n"
                               "    s.sendto(b'leak', ('127.0.0.1', " + std::to_string(server.port) + "))\n"
                               "    print('sent')\nexcept OSError as e:\n    print('failed', e.errno)\n",
                               quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  char buf[16];
  EXPECT_LT(recv(server.fd, buf, sizeof buf, 0), 0);
  close(server.fd);
}

TEST(Adversarial, NoNetworkInterfacesButADownLoopback) {
  const Result r = run_program("python", "import socket\nprint(sorted(n for _, n in socket.if_nameindex()))\n", quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_EQ(r.run().stdout_data, "['lo']\n");
}

TEST(Adversarial, PlantedHostFileIsInvisible) {
  const std::string name = unique_token("r1-planted");
  const std::string secret = unique_token("SECRET");
  for (const std::string dir : {"/tmp", "/var/tmp", "/root"}) {
    const std::string path = dir + "/" + name;
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) continue;
    std::fputs(secret.c_str(), f);
    std::fclose(f);
  }
  const Result r = run_program("python",
                               "import os\nfor d in ('/tmp', '/var/tmp', '/root', '/'):\n    try:\n"
                               "        print(open(os.path.join(d, '" + name + "')).read())\n    except OSError as e:\n"
                               "        print('no', d, e.errno)\nfor root, dirs, files in os.walk('/'):\n"
                               "    if '" + name + "' in files:\n        print('FOUND', root)\n",
                               quick_limits(20.0));
  for (const std::string dir : {"/tmp", "/var/tmp", "/root"}) unlink((dir + "/" + name).c_str());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_FALSE(contains(r.run().stdout_data, secret)) << r.run().stdout_data;
  EXPECT_FALSE(contains(r.run().stdout_data, "FOUND")) << r.run().stdout_data;
}

TEST(Adversarial, SourceTreeAndHostSystemFilesAreInvisible) {
  const Result r = run_program("python",
                               "import os\nfor p in ('" R1_SOURCE_DIR "/CMakeLists.txt', '/etc/shadow', '/etc/ssh', '/proc/1/environ',"
                               " '/sys/kernel', '/home', '/run', '/var/log'):\n    print(p, os.path.exists(p))\n"
                               "print(open('/etc/hostname').read().strip())\n",
                               quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_FALSE(contains(r.run().stdout_data, "True")) << r.run().stdout_data;
  EXPECT_TRUE(contains(r.run().stdout_data, "\nsandbox\n")) << r.run().stdout_data;
}

TEST(Adversarial, CallerEnvironmentIsInvisible) {
  const std::string secret = unique_token("sk-test-api-key");
  setenv("R1_SANDBOX_TEST_API_KEY", secret.c_str(), 1);
  const Result r = run_program("python", "import os\nprint(dict(os.environ))\n", quick_limits());
  unsetenv("R1_SANDBOX_TEST_API_KEY");
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_FALSE(contains(r.run().stdout_data, secret));
  EXPECT_FALSE(contains(r.run().stdout_data, "R1_SANDBOX_TEST_API_KEY"));
}

TEST(Adversarial, ListedEnvironmentVariablesArePassed) {
  Request request = request_for("bash", "echo \"$WANTED\" \"${UNWANTED:-absent}\"\n");
  request.env = {{"WANTED", "yes"}};
  setenv("UNWANTED", "leaked", 1);
  const Result r = run(request);
  unsetenv("UNWANTED");
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_EQ(r.run().stdout_data, "yes absent\n");
}

TEST(Adversarial, WritesOutsideTheWorkDirFailOrStayPrivate) {
  const std::string name = unique_token("r1-escape");
  const Result r = run_program("python",
                               "import os\nfor d in ('/', '/usr', '/etc', '/bin', '/dev', '/work', '/tmp', '/dev/shm'):\n"
                               "    try:\n        open(os.path.join(d, '" + name + "'), 'w').write('x')\n        print('wrote', d)\n"
                               "    except OSError as e:\n        print('denied', d, e.errno)\n",
                               quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  const std::string& out = r.run().stdout_data;
  for (const char* d : {"/ ", "/usr ", "/etc ", "/bin ", "/dev "}) {
    EXPECT_TRUE(contains(out, std::string("denied ") + d)) << d << "\n" << out;
  }
  EXPECT_TRUE(contains(out, "wrote /work")) << out;
  EXPECT_TRUE(contains(out, "wrote /tmp")) << out;
  struct stat st;
  for (const char* d : {"/", "/tmp/", "/dev/shm/", "/usr/", "/etc/"}) {
    EXPECT_NE(stat((std::string(d) + name).c_str(), &st), 0) << "found on the host: " << d << name;
  }
}

TEST(Adversarial, NoBackgroundProcessOutlivesTheRun) {
  const std::string marker = unique_token("r1-leftover");
  const Result r = run_program("bash",
                               "(exec -a " + marker + " sleep 1000) &\n"
                               "setsid bash -c 'exec -a " + marker + " sleep 1000' &\n"
                               "nohup bash -c '(exec -a " + marker + " sleep 1000) & disown' >/dev/null 2>&1 &\n"
                               "sleep 0.2\necho started\n",
                               quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_EQ(r.run().stdout_data, "started\n");
  EXPECT_TRUE(host_processes_with(marker).empty());
}

TEST(Adversarial, DoubleForkedDaemonDoesNotOutliveATimeout) {
  const std::string marker = unique_token("r1-daemon");
  const Result r = run_program("python",
                               "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
                               "        os.execv('/bin/sleep', ['" + marker + "', '1000'])\n    os._exit(0)\n"
                               "time.sleep(100)\n",
                               quick_limits(1.0));
  EXPECT_EQ(r.status, Status::timeout) << r.message;
  EXPECT_TRUE(host_processes_with(marker).empty());
}

TEST(Adversarial, OutputHeldOpenByABackgroundChildDoesNotHangTheCaller) {
  // The program exits at once; its child keeps stdout open and sleeps. The run must end with the program.
  const Result r = run_program("bash", "sleep 1000 &\necho done\nexit 0\n", quick_limits(30.0));
  EXPECT_EQ(r.status, Status::ok) << r.message;
  EXPECT_LT(r.run().wall_time_s, 25.0);
}

TEST(Adversarial, SignalsToParentsAndEveryoneHurtNobodyOutside) {
  const Result r = run_program("python",
                               "import os, signal\nfor pid in (os.getppid(), 1, " + std::to_string(getpid()) + ", " +
                                   std::to_string(getppid()) + "):\n    try:\n"
                               "        os.kill(pid, signal.SIGKILL)\n        print('sent', pid)\n    except OSError as e:\n"
                               "        print('denied', pid, e.errno)\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n"
                               "print('alive', os.getpid())\n",
                               quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_TRUE(contains(r.run().stdout_data, "alive")) << r.run().stdout_data;
  // We are still here (this line runs), and so is our parent.
  EXPECT_TRUE(kill(getppid(), 0) == 0 || errno == EPERM);  // EPERM: alive, just not ours to signal
}

TEST(Adversarial, ProgramSeesOnlyItsOwnPidNamespace) {
  const Result r = run_program("python", "import os\nprint(os.getpid(), os.getppid())\n", quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_EQ(r.run().stdout_data, "2 1\n");
}

TEST(Adversarial, SetuidAttemptsFail) {
  const Result r = run_program("python",
                               // Becoming uid 0 (or another uid) must fail; an unprivileged caller's program already
                               // is uid 0 inside, without capabilities, so then only other ids are tried.
                               "import os\nother = 4242 if os.getuid() == 0 else 0\n"
                               "for name, call in (('setuid', lambda: os.setuid(other)), ('setgid', lambda: os.setgid(other)),"
                               " ('seteuid', lambda: os.seteuid(other)), ('setgroups', lambda: os.setgroups([other])),"
                               " ('setresuid', lambda: os.setresuid(other, other, other))):\n    try:\n        call()\n"
                               "        print('GAINED', name)\n    except OSError as e:\n        print('denied', name, e.errno)\n"
                               "print('uid', os.getuid(), os.geteuid())\n",
                               quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_FALSE(contains(r.run().stdout_data, "GAINED")) << r.run().stdout_data;
}

TEST(Adversarial, SetuidRootBinariesDoNotElevate) {
  const Result r = run_program("bash", "/usr/bin/mount -t tmpfs none /tmp; echo \"mount=$?\"\nid -u\n", quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_FALSE(contains(r.run().stdout_data, "mount=0")) << r.run().stdout_data;
}

TEST(Adversarial, PtraceAndProcessMemoryAccessAreDenied) {
  const Result r = run_program(
      "cpp",
      "#include <sys/ptrace.h>\n#include <sys/uio.h>\n#include <sys/wait.h>\n#include <unistd.h>\n#include <cerrno>\n"
      "#include <cstdio>\nint main(){\n  long a = ptrace(PTRACE_TRACEME, 0, nullptr, nullptr); int e1 = errno;\n"
      "  pid_t c = fork(); if (c == 0) { pause(); _exit(0); }\n"
      "  long b = ptrace(PTRACE_ATTACH, c, nullptr, nullptr); int e2 = errno;\n"
      "  char buf[8]; iovec l{buf, 8}, r{(void*)&buf, 8};\n  long v = process_vm_readv(c, &l, 1, &r, 1, 0); int e3 = errno;\n"
      "  std::printf(\"%ld %d %ld %d %ld %d\\n\", a, e1, b, e2, v, e3);\n}\n",
      quick_limits(20.0));
  ASSERT_EQ(r.status, Status::ok) << r.message << (r.compile ? r.compile->stderr_data : "");
  EXPECT_EQ(r.run().stdout_data, "-1 1 -1 1 -1 1\n");  // EPERM three times
}

TEST(Adversarial, NamespaceMountAndKernelSyscallsAreDenied) {
  const Result r = run_program(
      "cpp",
      "#include <sched.h>\n#include <sys/mount.h>\n#include <sys/syscall.h>\n#include <unistd.h>\n#include <cerrno>\n"
      "#include <cstdio>\nint main(){\n  int r[6], e[6];\n"
      "  r[0] = unshare(CLONE_NEWUSER); e[0] = errno;\n  r[1] = mount(\"none\", \"/tmp\", \"tmpfs\", 0, nullptr); e[1] = errno;\n"
      "  r[2] = syscall(SYS_bpf, 0, nullptr, 0); e[2] = errno;\n  r[3] = syscall(SYS_keyctl, 0, 0, 0, 0, 0); e[3] = errno;\n"
      "  r[4] = syscall(SYS_io_uring_setup, 1, nullptr); e[4] = errno;\n  r[5] = syscall(SYS_perf_event_open, nullptr, 0, -1, -1, 0); e[5] = errno;\n"
      "  for (int i = 0; i < 6; ++i) std::printf(\"%d:%d \", r[i], e[i]);\n}\n",
      quick_limits(20.0));
  ASSERT_EQ(r.status, Status::ok) << r.message << (r.compile ? r.compile->stderr_data : "");
  EXPECT_EQ(r.run().stdout_data, "-1:1 -1:1 -1:1 -1:1 -1:1 -1:1 ");
}

TEST(Adversarial, CapabilitiesAreGoneAndNoNewPrivsIsSet) {
  const Result r = run_program(
      "cpp",
      "#include <linux/capability.h>\n#include <sys/prctl.h>\n#include <sys/syscall.h>\n#include <unistd.h>\n#include <cstdio>\n"
      "int main(){\n  __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0}; __user_cap_data_struct d[2]{};\n"
      "  syscall(SYS_capget, &h, d);\n  std::printf(\"%x %x %x %d %d %d\\n\", d[0].effective | d[1].effective, d[0].permitted | "
      "d[1].permitted, d[0].inheritable | d[1].inheritable, prctl(PR_CAPBSET_READ, 21 /*SYS_ADMIN*/, 0, 0, 0), "
      "prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0), prctl(PR_GET_SECCOMP, 0, 0, 0, 0));\n}\n",
      quick_limits(20.0));
  ASSERT_EQ(r.status, Status::ok) << r.message << (r.compile ? r.compile->stderr_data : "");
  EXPECT_EQ(r.run().stdout_data, "0 0 0 0 1 2\n");
}

TEST(Adversarial, ForeignSyscallAbiKillsTheProcess) {
  // x32 getpid (the syscall instruction with __X32_SYSCALL_BIT): the filter speaks only the native ABI,
  // so the process must die with SIGSYS instead of reaching an unfiltered syscall table.
  const Result r =
      run_raw_getpid("asm volatile(\"syscall\" : \"=a\"(r) : \"a\"(0x40000000L | 39) : \"rcx\", \"r11\", \"memory\")");
  EXPECT_EQ(r.status, Status::runtime_error) << r.message;
  EXPECT_EQ(r.run().signal, SIGSYS);
  EXPECT_EQ(r.run().stdout_data, "");
}

TEST(Adversarial, I386SyscallGateDoesNotGetThrough) {
  // int 0x80 (i386 getpid): SIGSYS from the filter, or SIGSEGV on kernels built without IA32 emulation.
  const Result r = run_raw_getpid("asm volatile(\"int $0x80\" : \"=a\"(r) : \"a\"(20L) : \"memory\")");
  EXPECT_EQ(r.status, Status::runtime_error) << r.message;
  EXPECT_TRUE(r.run().signal == SIGSYS || r.run().signal == SIGSEGV) << r.run().signal;
  EXPECT_EQ(r.run().stdout_data, "");
}

TEST(Adversarial, NothingMountedOrCreatedOnTheHost) {
  EXPECT_EQ(testing::host_sandbox_mounts(), 0);
  const Result r = run_program("bash", "echo hi > /work/f; echo hi > /tmp/f; echo hi > /dev/shm/f\n", quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_EQ(testing::host_sandbox_mounts(), 0);
}

TEST(Adversarial, WritingToEveryDescriptorCannotFakeTheResult) {
  // Fake "setup failed" / "phase ended" records sprayed at every descriptor must change nothing.
  const Result r = run_program("python",
                               "import os, struct\nrec = struct.pack('IiiiqqqQ', 3, 1, 0, 2, 0, 0, 0, 0) + b'x' * 256\n"
                               "n = 0\nfor fd in range(3, 1024):\n    try:\n        os.write(fd, rec)\n        n += 1\n"
                               "    except OSError:\n        pass\nprint('wrote', n)\n",
                               quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_EQ(r.run().stdout_data, "wrote 0\n");
}

TEST(Adversarial, HostnameAndUsersAreTheSandboxes) {
  const Result r = run_program("bash", "hostname; id -un; id -u; ls /\n", quick_limits());
  ASSERT_EQ(r.status, Status::ok) << r.message;
  EXPECT_TRUE(contains(r.run().stdout_data, "sandbox\n")) << r.run().stdout_data;
  EXPECT_FALSE(contains(r.run().stdout_data, "proc")) << r.run().stdout_data;
}

}  // namespace
}  // namespace r1::sandbox
