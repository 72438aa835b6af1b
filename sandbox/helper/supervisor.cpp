// See supervisor.h. The loop is a plain poll() over three pipes with one deadline that means, depending
// on the state: "phase k must end by now" (then: request a kill), "the kill must have worked by now" (then:
// SIGKILL init, which takes the whole PID namespace down) or "init must have started the next phase by
// now" (setup or reaping stuck: same).
#include "sandbox/helper/supervisor.h"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include "sandbox/helper/cgroup.h"
#include "sandbox/helper/util.h"

namespace r1::sandbox::helper {

namespace {

constexpr double kSetupTimeoutS = 30.0;  // building the sandbox / between phases (normally milliseconds)
constexpr double kKillGraceS = 2.0;      // from a kill request to init reporting the phase's end

struct PhaseState {
  bool started = false, ended = false;
  int64_t oom_before = 0, oom_after = 0;
  double t0 = 0, t1 = 0;
  bool kill_sent = false;
  bool wall_timeout = false, output_exceeded = false;
  int64_t out_total = 0, err_total = 0;
  Msg end;
  Execution ex;
};

bool contains_any(const std::string& text, std::initializer_list<const char*> needles) {
  for (const char* n : needles) {
    if (text.find(n) != std::string::npos) return true;
  }
  return false;
}

std::string seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g s", s);
  return buf;
}

}  // namespace

void classify(const PhaseOutcome& o, const Limits& limits, Execution* ex) {
  ex->cpu_time_s = o.cpu_time_s;
  ex->peak_memory_bytes = o.peak_memory_bytes;
  ex->exit_code = -1;
  ex->signal = 0;
  if (o.ended && WIFEXITED(o.wait_status)) ex->exit_code = WEXITSTATUS(o.wait_status);
  if (o.ended && WIFSIGNALED(o.wait_status)) ex->signal = WTERMSIG(o.wait_status);
  const bool killed = !o.ended || ex->signal == SIGKILL;

  if (o.exec_failed) {
    ex->status = Status::sandbox_error;
    return;  // message already set by the phase
  }
  if (o.output_exceeded) {
    ex->status = Status::output_limit;
    ex->message = "output limit (stdout " + std::to_string(limits.stdout_bytes) + " bytes, stderr " +
                  std::to_string(limits.stderr_bytes) + " bytes)";
    return;
  }
  if (o.wall_timeout && killed) {
    ex->status = Status::timeout;
    ex->message = "wall time limit " + seconds(limits.wall_time_s);
    return;
  }
  if (o.oom_killed && ex->exit_code != 0) {
    ex->status = Status::memory_limit;
    ex->message = "memory limit of the whole sandbox " + std::to_string(limits.total_memory_bytes >> 20) +
                  " MiB (a process was killed by the memory cgroup)";
    return;
  }
  if (!o.ended) {
    ex->status = Status::sandbox_error;
    ex->message = "the sandbox init process died before the program ended";
    return;
  }
  const double cpu_limit = std::max(1.0, std::ceil(limits.cpu_time_s));
  if (ex->signal == SIGXCPU || (ex->signal == SIGKILL && o.cpu_time_s >= cpu_limit - 0.05)) {
    ex->status = Status::timeout;
    ex->message = "CPU time limit " + seconds(cpu_limit);
    return;
  }
  if (ex->exit_code == 0) {
    ex->status = Status::ok;
    ex->message.clear();
    return;
  }
  // RLIMIT_AS makes allocations fail instead of raising an OOM event, so a memory failure shows as the
  // runtime's own out-of-memory report, or as a death near the limit.
  const std::string tail = ex->stderr_data.size() > 4096 ? ex->stderr_data.substr(ex->stderr_data.size() - 4096)
                                                         : ex->stderr_data;
  const bool oom_text = contains_any(tail, {"MemoryError", "std::bad_alloc", "Cannot allocate memory",
                                            "out of memory", "Out of memory", "memory exhausted"});
  const bool near_limit = o.peak_memory_bytes >= limits.memory_bytes * 9 / 10;
  if (oom_text || near_limit) {
    ex->status = Status::memory_limit;
    ex->message = "memory limit " + std::to_string(limits.memory_bytes >> 20) + " MiB";
    return;
  }
  ex->status = Status::runtime_error;
  if (ex->signal == SIGXFSZ) {
    ex->message = "file size limit " + std::to_string(limits.max_file_bytes) + " bytes (SIGXFSZ)";
  } else if (ex->signal != 0) {
    ex->message = "killed by " + signal_name(ex->signal);
  } else {
    ex->message = "exit code " + std::to_string(ex->exit_code);
  }
}

Result supervise(const Job& job, pid_t init_pid, const SupervisedPipes& pipes, const SandboxCgroup* cgroup) {
  auto oom_kills = [cgroup]() -> int64_t { return cgroup != nullptr ? cgroup->oom_kills() : 0; };
  const bool has_compile = !job.compile_argv.empty();
  auto limits_of = [&](int phase) -> const Limits& { return phase == 0 ? job.compile_limits : job.limits; };

  std::map<int, PhaseState> phases;
  int current = -1;  // the phase between its acknowledged kPhaseStart and its kPhaseEnd; -1: none
  std::string setup_error;
  std::string ctl_buffer;
  bool init_killed = false;
  double now = monotonic_s();
  double deadline = now + kSetupTimeoutS;
  bool open[3] = {true, true, true};
  const int fds[3] = {pipes.ctl, pipes.out, pipes.err};

  auto request_kill = [&](int phase) {
    PhaseState& ps = phases[phase];
    if (ps.kill_sent) return;
    ps.kill_sent = true;
    sigval value;
    value.sival_int = phase;
    (void)sigqueue(init_pid, SIGUSR1, value);
    deadline = deadline <= now ? now + kKillGraceS : std::min(deadline, now + kKillGraceS);
  };

  auto append = [&](int which, const char* data, size_t n) {
    // No phase current: the sandbox's programs cannot have written this (supervisor.h); drop it.
    if (current < 0) return;
    const int phase = current;
    PhaseState& ps = phases[phase];
    const Limits& lim = limits_of(phase);
    std::string& text = which == 1 ? ps.ex.stdout_data : ps.ex.stderr_data;
    int64_t& total = which == 1 ? ps.out_total : ps.err_total;
    const int64_t cap = which == 1 ? lim.stdout_bytes : lim.stderr_bytes;
    total += static_cast<int64_t>(n);
    if (static_cast<int64_t>(text.size()) < cap) {
      text.append(data, static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(n), cap - text.size())));
    }
    if (total > cap) {
      (which == 1 ? ps.ex.stdout_truncated : ps.ex.stderr_truncated) = true;
      if (!ps.output_exceeded) {
        ps.output_exceeded = true;
        if (!ps.ended) request_kill(phase);
      }
    }
  };

  auto drain = [&](int which) {  // non-blocking: read what the dead writers left in the pipe
    char buf[65536];
    while (open[which]) {
      const ssize_t n = read(fds[which], buf, sizeof buf);
      if (n > 0) {
        append(which, buf, static_cast<size_t>(n));
      } else if (n == 0) {
        open[which] = false;
      } else if (errno == EINTR) {
        continue;
      } else {
        break;  // EAGAIN: empty for now
      }
    }
  };

  auto on_message = [&](const Msg& m) {
    if (m.type == kPhaseStart) {
      PhaseState& ps = phases[m.phase];
      ps.started = true;
      ps.t0 = now;
      ps.oom_before = oom_kills();
      current = m.phase;
      deadline = now + std::max(0.001, limits_of(m.phase).wall_time_s);
      // Only now may init fork the phase's program. When init is gone (EPIPE) there is nothing to tell.
      (void)send_ack(pipes.ack, m.phase);
    } else if (m.type == kPhaseEnd) {
      drain(1);  // every writer of the phase is gone: what is in the pipes now is all of its output
      drain(2);
      PhaseState& ps = phases[m.phase];
      ps.ended = true;
      ps.t1 = now;
      ps.oom_after = oom_kills();
      ps.end = m;
      current = -1;
      deadline = now + kSetupTimeoutS;
    } else if (m.type == kSetupError) {
      setup_error.assign(m.text, strnlen(m.text, sizeof m.text));
    }
  };

  while (open[0] || open[1] || open[2]) {
    pollfd pfd[3];
    nfds_t count = 0;
    int index_of[3];
    for (int i = 0; i < 3; ++i) {
      if (!open[i]) continue;
      pfd[count] = {fds[i], POLLIN, 0};
      index_of[count++] = i;
    }
    const double wait_s = std::max(0.0, deadline - now);
    const int timeout_ms = static_cast<int>(std::min(wait_s * 1000.0 + 1.0, 3600e3));
    const int ready = poll(pfd, count, timeout_ms);
    now = monotonic_s();
    if (ready < 0 && errno != EINTR) break;
    for (nfds_t k = 0; ready > 0 && k < count; ++k) {
      if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const int which = index_of[k];
      if (which == 0) {
        char buf[sizeof(Msg) * 8];
        const ssize_t n = read(pipes.ctl, buf, sizeof buf);
        if (n > 0) {
          ctl_buffer.append(buf, static_cast<size_t>(n));
          while (ctl_buffer.size() >= sizeof(Msg)) {
            Msg m;
            std::memcpy(&m, ctl_buffer.data(), sizeof m);
            ctl_buffer.erase(0, sizeof m);
            on_message(m);
          }
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
          open[0] = false;
        }
      } else {
        drain(which);
      }
    }
    if (now >= deadline) {
      if (current >= 0 && !phases[current].kill_sent) {
        phases[current].wall_timeout = true;
        request_kill(current);
      } else if (!init_killed) {
        kill(init_pid, SIGKILL);  // unresponsive: the kernel kills the whole PID namespace with it
        init_killed = true;
        deadline = now + kKillGraceS;
      } else {
        break;  // pipes held open by something we cannot see: give up on them
      }
    }
  }
  if (!init_killed && (open[0] || open[1] || open[2])) kill(init_pid, SIGKILL);
  int status = 0;
  while (waitpid(init_pid, &status, 0) < 0 && errno == EINTR) {
  }

  Result result;
  for (auto& [index, ps] : phases) {
    if (!ps.started) continue;
    const Limits& lim = limits_of(index);
    PhaseOutcome o;
    o.ended = ps.ended;
    o.exec_failed = ps.ended && ps.end.exec_errno != 0;
    o.output_exceeded = ps.output_exceeded;
    o.wall_timeout = ps.wall_timeout;
    o.oom_killed = (ps.ended ? ps.oom_after : oom_kills()) > ps.oom_before;
    o.wait_status = ps.end.wait_status;
    o.cpu_time_s = static_cast<double>(ps.end.utime_us + ps.end.stime_us) * 1e-6;
    o.peak_memory_bytes = ps.end.maxrss_kb * 1024;
    if (o.exec_failed) ps.ex.message.assign(ps.end.text, strnlen(ps.end.text, sizeof ps.end.text));
    ps.ex.wall_time_s = (ps.ended ? ps.t1 : now) - ps.t0;
    classify(o, lim, &ps.ex);
    if (ps.ex.stdout_truncated) ps.ex.stdout_data += kTruncationMarker;
    if (ps.ex.stderr_truncated) ps.ex.stderr_data += kTruncationMarker;
    if (index == 0 && has_compile) {
      result.compile = std::move(ps.ex);
    } else if (index >= 1) {
      result.runs.push_back(std::move(ps.ex));
    }
  }

  if (!setup_error.empty()) {
    result.status = Status::sandbox_error;
    result.message = "sandbox setup failed: " + setup_error;
  } else if (has_compile && (!result.compile || result.compile->status != Status::ok)) {
    if (result.compile && result.compile->status == Status::sandbox_error) {
      result.status = Status::sandbox_error;
      result.message = "compile step: " + result.compile->message;
    } else {
      result.status = Status::compile_error;
      result.message = result.compile ? "compilation failed: " + result.compile->message : "compilation did not run";
    }
  } else if (result.runs.empty()) {
    result.status = Status::sandbox_error;
    result.message = init_killed ? "the sandbox did not respond and was killed" : "no run took place";
  } else {
    result.status = Status::ok;
    for (size_t i = 0; i < result.runs.size(); ++i) {
      if (result.runs[i].status != Status::ok) {
        result.status = result.runs[i].status;
        result.message = (result.runs.size() > 1 ? "run " + std::to_string(i + 1) + ": " : std::string()) +
                         status_name(result.status) + ": " + result.runs[i].message;
        break;
      }
    }
  }
  return result;
}

}  // namespace r1::sandbox::helper
