// run(): the caller's side of a sandbox run (see sandbox.h for the design and the threat model).
//
// Resolves the request against the language table into a Job, hands it to a worker of this process's
// helper server (helper_server.h) or posix_spawns a helper for this run with an empty environment and one
// socketpair as its stdin/stdout, sends the job, reads the result. A socket rather than pipes because
// send(MSG_NOSIGNAL) cannot raise SIGPIPE in the caller when the helper died early.
// The caller keeps a backstop deadline of its own (the sum of every phase's limit plus slack): the helper
// enforces the real limits, the backstop only guards against a helper that hangs.
#include "sandbox/sandbox.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

#include "common/error.h"
#include "sandbox/helper_server.h"
#include "sandbox/languages.h"
#include "sandbox/wire.h"

#ifndef R1_SANDBOX_HELPER_BUILD_PATH
#define R1_SANDBOX_HELPER_BUILD_PATH ""
#endif

namespace r1::sandbox {

namespace {

constexpr const char* kHelperName = "r1-sandbox-helper";

std::mutex& helper_mutex() {
  static std::mutex m;
  return m;
}
std::string& helper_override() {
  static std::string path;
  return path;
}

bool is_executable(const std::string& path) {
  struct stat st;
  return !path.empty() && stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0;
}

std::string dirname_of(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

Result error_result(const std::string& message) {
  Result r;
  r.status = Status::sandbox_error;
  r.message = message;
  return r;
}

std::string check_limits(const Limits& l, const char* which) {
  if (!(l.wall_time_s > 0) || !(l.cpu_time_s > 0) || l.memory_bytes <= 0 || l.total_memory_bytes <= 0 || l.max_processes <= 0 ||
      l.max_file_bytes < 0 || l.max_open_files <= 0 || l.stack_bytes <= 0 || l.stdout_bytes < 0 || l.stderr_bytes < 0) {
    return str_cat(which, " limits must be positive (wall ", l.wall_time_s, " s, cpu ", l.cpu_time_s, " s, memory ",
                   l.memory_bytes, " bytes, processes ", l.max_processes, ")");
  }
  if (l.wall_time_s > 86400 || l.cpu_time_s > 86400) return str_cat(which, " time limits above one day");
  return {};
}

// Resolves the request; returns an error message instead when it is unusable.
std::string make_job(const Request& request, Job* job) {
  const Language* lang = find_language(request.language);
  if (lang == nullptr) return str_cat("unknown language '", request.language, "' (known: ", language_list(), ")");
  for (const std::string& err : {check_limits(request.limits, "run"), check_limits(request.compile_limits, "compile")}) {
    if (!err.empty()) return err;
  }
  std::set<std::string> paths = {lang->source_file};
  job->files.push_back({lang->source_file, request.source, false});
  for (const File& f : request.files) {
    if (!valid_job_path(f.path)) return str_cat("invalid file path '", f.path, "' (relative, no '.' or '..' parts)");
    if (!paths.insert(f.path).second) return str_cat("file '", f.path, "' given twice");
    job->files.push_back(f);
  }
  job->compile_argv = lang->compile_argv;
  job->run_argv = lang->run_argv;
  job->run_argv.insert(job->run_argv.end(), request.args.begin(), request.args.end());
  for (const auto& argv : {job->compile_argv, job->run_argv}) {
    if (!argv.empty() && argv[0][0] == '/' && !is_executable(argv[0])) {
      return str_cat("the ", lang->name, " toolchain is missing on this host: ", argv[0],
                     " does not exist (install it: scripts/install-deps.sh)");
    }
  }
  job->env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/work", "TMPDIR=/tmp", "LANG=C.UTF-8", "LC_ALL=C.UTF-8"};
  for (const auto& [name, value] : request.env) {
    if (name.empty() || name.find('=') != std::string::npos || name.find('\0') != std::string::npos ||
        value.find('\0') != std::string::npos) {
      return str_cat("invalid environment variable name '", name, "'");
    }
    job->env.push_back(name + "=" + value);
  }
  job->inputs = request.inputs.empty() ? std::vector<std::string>{std::string()} : request.inputs;
  job->stop_on_failure = request.stop_on_failure;
  job->fd3_data = request.fd3_data;
  job->limits = request.limits;
  job->compile_limits = request.compile_limits;
  job->isolation = request.isolation;
  const char* zygote_env = std::getenv("R1_SANDBOX_ZYGOTE");
  const bool zygote_allowed = zygote_env == nullptr || std::string(zygote_env) != "0";
  job->python_zygote = lang->python_zygote && request.allow_zygote && zygote_allowed;
  return {};
}

double backstop_seconds(const Job& job) {
  double total = 60.0;  // setup, teardown and scheduling slack
  if (!job.compile_argv.empty()) total += job.compile_limits.wall_time_s + 5.0;
  total += static_cast<double>(job.inputs.size()) * (job.limits.wall_time_s + 5.0);
  return total;
}

bool send_all(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

bool server_enabled() {
  const char* env = std::getenv("R1_SANDBOX_SERVER");
  return env == nullptr || std::string(env) != "0";
}

// Sends the job on `sock`, reads the worker's pid and the result. `spawned` is the helper we started
// ourselves (we reap it), or -1 for a server worker (the server reaps it).
Result talk_to_helper(const std::string& helper, int sock, pid_t spawned, const Job& job) {
  const bool sent = send_all(sock, encode_job(job));
  shutdown(sock, SHUT_WR);
  const double backstop = backstop_seconds(job);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(backstop);
  std::string reply;
  bool hung = false;
  char buf[65536];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      hung = true;
      break;
    }
    pollfd pfd{sock, POLLIN, 0};
    const int ready = poll(&pfd, 1, static_cast<int>(std::min<int64_t>(left.count() + 1, 1 << 30)));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const ssize_t n = read(sock, buf, sizeof buf);
    if (n > 0) {
      reply.append(buf, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  close(sock);
  pid_t worker = spawned;
  if (reply.size() >= 4) {
    uint32_t pid;
    std::memcpy(&pid, reply.data(), 4);
    if (spawned < 0) worker = static_cast<pid_t>(pid);
    reply.erase(0, 4);
  }
  // init dies with the worker (PDEATHSIG), and the PID namespace with init. The server, a child subreaper,
  // reaps the orphaned init; a helper spawned for this run we reap below, but its init goes to init.
  if (hung && worker > 0) kill(worker, SIGKILL);
  int status = 0;
  pid_t waited = -1;
  if (spawned > 0) {
    do {
      waited = waitpid(spawned, &status, 0);
    } while (waited < 0 && errno == EINTR);
  }
  if (hung) return error_result(str_cat("the sandbox helper did not answer within ", backstop, " s"));
  if (!sent && reply.empty()) return error_result("the sandbox helper exited before reading the job");
  if (reply.empty()) {
    std::string how = waited == spawned && spawned > 0 && WIFSIGNALED(status) ? str_cat("was killed by signal ", WTERMSIG(status))
                      : waited == spawned && spawned > 0                      ? str_cat("exited with status ", WEXITSTATUS(status))
                                                                               : "ended";
    return error_result(str_cat("the sandbox helper ", helper, " ", how, " without a result"));
  }
  try {
    return decode_result(reply);
  } catch (const Error& e) {
    return error_result(str_cat("unreadable answer from the sandbox helper: ", e.what()));
  }
}

Result run_job(const std::string& helper, const Job& job) {
  std::string error;
  if (server_enabled()) {
    internal::HelperServer& server = internal::HelperServer::instance();
    const int sock = server.open_job(helper, &error);
    if (sock >= 0) return talk_to_helper(helper, sock, -1, job);
    if (server.closed()) return error_result(error);  // exiting: a helper started now would outlive us
  }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    return error_result(str_cat("socketpair: ", std::strerror(errno)));
  }
  const pid_t pid = internal::spawn_helper(helper, {std::to_string(getpid())}, sv[1], {0, 1}, {}, &error);
  close(sv[1]);
  if (pid < 0) {
    close(sv[0]);
    return error_result(error);
  }
  return talk_to_helper(helper, sv[0], pid, job);
}

}  // namespace

void set_helper_path(const std::string& path) {
  std::lock_guard<std::mutex> lock(helper_mutex());
  helper_override() = path;
}

std::string helper_path() {
  std::string chosen;
  {
    std::lock_guard<std::mutex> lock(helper_mutex());
    chosen = helper_override();
  }
  const char* env = std::getenv("R1_SANDBOX_HELPER");
  if (chosen.empty() && env != nullptr && *env) chosen = env;
  if (!chosen.empty()) {  // an explicit choice is authoritative: never fall back to another binary
    R1_CHECK(is_executable(chosen), "the sandbox helper ", chosen,
             " (set by set_helper_path or R1_SANDBOX_HELPER) is not an executable file");
    return chosen;
  }
  std::vector<std::string> candidates;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    const std::string dir = dirname_of(exe);
    candidates.push_back(dir + "/" + kHelperName);
    candidates.push_back(dir + "/../sandbox/" + kHelperName);
  }
  if (*R1_SANDBOX_HELPER_BUILD_PATH) candidates.emplace_back(R1_SANDBOX_HELPER_BUILD_PATH);
  std::string looked;
  for (const auto& c : candidates) {
    if (is_executable(c)) return c;
    looked += (looked.empty() ? "" : ", ") + c;
  }
  fail("the sandbox helper executable ", kHelperName, " was not found (looked at: ", looked,
       "); build the r1-sandbox-helper target or set R1_SANDBOX_HELPER");
}

Result run(const Request& request) {
  Job job;
  const std::string problem = make_job(request, &job);
  if (!problem.empty()) return error_result("bad sandbox request: " + problem);
  std::string helper;
  try {
    helper = helper_path();
  } catch (const Error& e) {
    return error_result(e.what());
  }
  return run_job(helper, job);
}

std::string probe_isolation() {
  Request request;
  request.language = "bash";
  request.source = "exit 0\n";
  request.limits.wall_time_s = 10;
  const Result result = run(request);
  if (result.status == Status::ok) return {};
  return result.message.empty() ? status_name(result.status) : result.message;
}

}  // namespace r1::sandbox
