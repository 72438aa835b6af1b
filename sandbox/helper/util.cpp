// See util.h.
#include "sandbox/helper/util.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string.h>
#include <ctime>

namespace r1::sandbox::helper {

void send_msg(int fd, const Msg& msg) { (void)write_all(fd, &msg, sizeof msg); }

Msg make_msg(MsgType type, int phase, std::string_view text) {
  Msg m;
  m.type = type;
  m.phase = phase;
  const size_t n = std::min(text.size(), sizeof(m.text) - 1);
  std::memcpy(m.text, text.data(), n);
  m.text[n] = '\0';
  return m;
}

bool send_ack(int fd, int32_t phase) { return write_all(fd, &phase, sizeof phase); }

bool wait_for_ack(int fd, int32_t phase) {
  int32_t acked = -1;
  ssize_t n;
  do {
    n = ::read(fd, &acked, sizeof acked);
  } while (n < 0 && errno == EINTR);  // SIGUSR1 (a kill request) may arrive while we wait
  if (n < 0) return false;
  if (n != static_cast<ssize_t>(sizeof acked)) {
    errno = EPIPE;  // EOF (a short read cannot happen: one atomic write per ack)
    return false;
  }
  if (acked != phase) {
    errno = EPROTO;
    return false;
  }
  return true;
}

void scrub_bytes(const std::string& s) {
  if (!s.empty()) explicit_bzero(const_cast<char*>(s.data()), s.size());
}

bool write_all(int fd, const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool read_all(int fd, std::string* out) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    out->append(buf, static_cast<size_t>(n));
  }
}

double monotonic_s() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string errno_text(int err) { return std::string(std::strerror(err)); }

void close_fds_from(int from) {
#ifdef SYS_close_range
  if (syscall(SYS_close_range, static_cast<unsigned>(from), ~0U, 0U) == 0) return;
#endif
  const long max_fd = sysconf(_SC_OPEN_MAX);
  for (long fd = from; fd < (max_fd > 0 ? max_fd : 65536); ++fd) ::close(static_cast<int>(fd));
}

namespace {

// The parent pid in the text of /proc/PID/stat: "PID (COMM) STATE PPID ...", where COMM may hold spaces
// and parentheses and so ends at the last ')'. -1 when the text is not of that form.
pid_t parent_in_stat(const std::string& stat) {
  const size_t close = stat.rfind(')');
  if (close == std::string::npos || close + 4 >= stat.size()) return -1;
  char* end = nullptr;
  const long ppid = std::strtol(stat.c_str() + close + 4, &end, 10);  // past ") S "
  return end != stat.c_str() + close + 4 ? static_cast<pid_t>(ppid) : -1;
}

std::string read_small_file(const std::string& path) {
  std::string text;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;  // the process is gone
  (void)read_all(fd, &text);
  close(fd);
  return text;
}

}  // namespace

std::vector<pid_t> child_pids() {
  std::vector<pid_t> children;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  const pid_t self = getpid();
  while (dirent* e = readdir(proc)) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    if (parent_in_stat(read_small_file(std::string("/proc/") + e->d_name + "/stat")) == self) {
      children.push_back(static_cast<pid_t>(std::strtol(e->d_name, nullptr, 10)));
    }
  }
  closedir(proc);
  return children;
}

std::string signal_name(int sig) {
  switch (sig) {
    case SIGKILL: return "SIGKILL";
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGPIPE: return "SIGPIPE";
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGSYS: return "SIGSYS";
    case SIGTRAP: return "SIGTRAP";
    case SIGHUP: return "SIGHUP";
    case SIGALRM: return "SIGALRM";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    default: return "signal " + std::to_string(sig);
  }
}

}  // namespace r1::sandbox::helper
