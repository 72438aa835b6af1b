// See external_reward.h. Each child talks over one AF_UNIX socket used as its stdin and stdout:
// send(MSG_NOSIGNAL) means a child that died never raises SIGPIPE in the trainer, and poll() on a
// non-blocking socket gives the per-request timeout. Children are spawned with posix_spawnp (safe in
// a multi-threaded process) into their own process group so a kill takes their descendants too.
#include "rewards/external_reward.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/error.h"
#include "rewards/builtin.h"
#include "rewards/options.h"

extern char** environ;

namespace r1::rewards {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

class Child {
 public:
  ~Child() { stop(); }
  bool running() const { return pid_ > 0; }

  // log_stderr: the child's stderr is r1's own (live); otherwise a pipe whose last lines errors quote.
  bool start(const std::vector<std::string>& command, bool log_stderr, std::string& error) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      error = std::string("socketpair: ") + std::strerror(errno);
      return false;
    }
    int err[2] = {-1, -1};
    if (!log_stderr && pipe2(err, O_CLOEXEC) != 0) {
      error = std::string("pipe: ") + std::strerror(errno);
      close(sv[0]);
      close(sv[1]);
      return false;
    }
    std::vector<std::string> argv_store = command;
    if (argv_store.size() == 1) argv_store = {"/bin/sh", "-c", command[0]};
    std::vector<char*> argv;
    for (std::string& a : argv_store) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, sv[1], 0);
    posix_spawn_file_actions_adddup2(&actions, sv[1], 1);
    if (err[1] >= 0) posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    posix_spawnattr_init(&attr);
    sigset_t defaults, empty;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigemptyset(&empty);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    pid_t pid = -1;
    int rc = posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(sv[1]);
    if (err[1] >= 0) close(err[1]);
    if (rc != 0) {
      close(sv[0]);
      if (err[0] >= 0) close(err[0]);
      error = std::string("cannot start '") + argv_store[0] + "': " + std::strerror(rc);
      return false;
    }
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    if (err[0] >= 0) fcntl(err[0], F_SETFL, fcntl(err[0], F_GETFL) | O_NONBLOCK);
    pid_ = pid;
    fd_ = sv[0];
    err_fd_ = err[0];
    err_tail_.clear();
    buffer_.clear();
    fresh_ = true;
    return true;
  }

  // The last lines the child wrote to stderr (what is left of them after the last read), indented for an
  // error message; "" when it wrote nothing or its stderr is r1's.
  std::string stderr_tail() {
    pump_stderr();
    std::string tail = err_tail_;
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
    if (tail.empty()) return "";
    size_t from = tail.size(), lines = 0;
    while (from > 0 && lines < kStderrLines) {
      from = tail.rfind('\n', from - 1);
      if (from == std::string::npos) {
        from = 0;
        break;
      }
      ++lines;
    }
    std::string out;
    for (size_t a = from == 0 ? 0 : from + 1; a < tail.size();) {
      size_t b = tail.find('\n', a);
      if (b == std::string::npos) b = tail.size();
      out += "\n    " + tail.substr(a, b - a);
      a = b + 1;
    }
    return out;
  }

  // Sends one line and waits for one response line (JSON object); false with a reason otherwise.
  bool request(const std::string& line, double timeout_ms, double startup_ms, std::string& response, std::string& error) {
    // The first request of a fresh child also waits for the interpreter to start.
    if (fresh_) timeout_ms = std::max(timeout_ms, startup_ms);
    fresh_ = false;
    auto deadline = Clock::now() + std::chrono::microseconds(static_cast<long long>(timeout_ms * 1000));
    size_t sent = 0;
    while (sent < line.size()) {
      ssize_t n = send(fd_, line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{fd_, POLLOUT, 0};
        int left = remaining_ms(deadline);
        if (left == 0 || poll(&p, 1, left) == 0) {
          error = "timed out writing the request";
          return false;
        }
        continue;
      }
      error = "the process exited (" + exit_text() + ")";
      return false;
    }
    for (;;) {
      size_t nl;
      while ((nl = buffer_.find('\n')) != std::string::npos) {
        std::string l = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        size_t first = l.find_first_not_of(" \t\r");
        if (first != std::string::npos && l[first] == '{') {
          response = l.substr(first);
          return true;
        }
      }
      int left = remaining_ms(deadline);
      // The child's stderr is read while waiting, so a child that logs a lot never blocks on a full pipe.
      pollfd p[2] = {{fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
      int ready = left == 0 ? 0 : poll(p, err_fd_ >= 0 ? 2 : 1, left);
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) {
        error = "no response within " + std::to_string(static_cast<long long>(timeout_ms)) + " ms";
        return false;
      }
      if (err_fd_ >= 0 && (p[1].revents & (POLLIN | POLLHUP))) pump_stderr();
      if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char chunk[65536];
      ssize_t n = recv(fd_, chunk, sizeof(chunk), 0);
      if (n > 0) {
        buffer_.append(chunk, static_cast<size_t>(n));
        if (buffer_.size() > (64u << 20)) {
          error = "response line longer than 64 MiB";
          return false;
        }
        continue;
      }
      if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
      error = "the process closed its output (" + exit_text() + ")";
      return false;
    }
  }

  void stop() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
    if (err_fd_ >= 0) close(err_fd_);
    err_fd_ = -1;
    if (pid_ > 0) {
      kill(-pid_, SIGKILL);
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
    buffer_.clear();
  }

 private:
  std::string exit_text() {
    if (pid_ <= 0) return "not running";
    int status = 0;
    for (int k = 0; k < 20; ++k) {  // give it up to ~100 ms to be reaped
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
        if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
        return "ended";
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return "still running";
  }

  // Reads what the child's stderr holds now into err_tail_ (the last kStderrBytes bytes are kept).
  void pump_stderr() {
    if (err_fd_ < 0) return;
    char chunk[8192];
    for (;;) {
      const ssize_t n = read(err_fd_, chunk, sizeof chunk);
      if (n > 0) {
        err_tail_.append(chunk, static_cast<size_t>(n));
        if (err_tail_.size() > kStderrBytes) err_tail_.erase(0, err_tail_.size() - kStderrBytes);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      return;  // EAGAIN (nothing more now), or EOF
    }
  }

  static constexpr size_t kStderrBytes = 16384;
  static constexpr size_t kStderrLines = 15;
  pid_t pid_ = -1;
  int fd_ = -1;
  int err_fd_ = -1;       // read end of the child's stderr (-1 with log_stderr)
  bool fresh_ = false;
  std::string buffer_;
  std::string err_tail_;  // the end of what the child wrote to stderr
};

// The command as a user would type it (arguments with spaces or quotes in single quotes).
std::string command_text(const std::vector<std::string>& command) {
  std::string out;
  for (const auto& a : command) {
    if (!out.empty()) out += ' ';
    if (a.find_first_of(" \t'\"$") == std::string::npos && !a.empty()) {
      out += a;
    } else {
      out += "'";
      for (char c : a) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
      out += "'";
    }
  }
  return out;
}

// ", row id X" when the sample's row has an "id" (datasets and `r1 reward score` inputs carry one).
std::string row_id_text(const Sample& sample) {
  if (sample.row == nullptr || !sample.row->IsObject()) return "";
  const json::Value* id = json::find(*sample.row, "id");
  return id == nullptr ? "" : ", row id " + json::dump(*id);
}

std::string request_line(int64_t id, const Sample& sample) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("id");
  w.Int64(id);
  w.Key("prompt");
  w.String(sample.prompt.data(), static_cast<rapidjson::SizeType>(sample.prompt.size()));
  w.Key("completion");
  w.String(sample.completion.data(), static_cast<rapidjson::SizeType>(sample.completion.size()));
  w.Key("row");
  if (sample.row != nullptr) {
    sample.row->Accept(w);
  } else {
    w.Null();
  }
  w.Key("completion_tokens");
  w.Int64(sample.completion_tokens);
  w.Key("truncated");
  w.Bool(sample.truncated);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

}  // namespace

class ExternalProcessPool {
 public:
  explicit ExternalProcessPool(const ExternalConfig& c) : config_(c), children_(static_cast<size_t>(c.processes)) {
    for (auto& ch : children_) ch = std::make_unique<Child>();
    busy_.assign(children_.size(), false);
  }

  Child* acquire() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      for (size_t k = 0; k < children_.size(); ++k)
        if (!busy_[k]) {
          busy_[k] = true;
          return children_[k].get();
        }
      cv_.wait(lock);
    }
  }

  void release(Child* child) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (size_t k = 0; k < children_.size(); ++k)
        if (children_[k].get() == child) busy_[k] = false;
    }
    cv_.notify_one();
  }

  // Starts the child if needed; counts failures in a row.
  bool ensure_started(Child* child, std::string& error) {
    if (child->running()) return true;
    if (consecutive_failures_.load() > config_.max_restarts) {
      error = "gave up after " + std::to_string(config_.max_restarts) + " restarts in a row";
      return false;
    }
    ++starts_;
    return child->start(config_.command, config_.log_stderr, error);
  }

  void record(bool ok) {
    if (ok) consecutive_failures_ = 0;
    else ++consecutive_failures_;
  }

  std::atomic<int> starts_{0};

 private:
  const ExternalConfig& config_;
  std::vector<std::unique_ptr<Child>> children_;
  std::vector<bool> busy_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<int> consecutive_failures_{0};
};

namespace {
std::atomic<int64_t> g_next_id{1};
}

ExternalReward::ExternalReward(ExternalConfig config) : config_(std::move(config)) {
  pool_ = new ExternalProcessPool(config_);
}

ExternalReward::~ExternalReward() { delete pool_; }

int ExternalReward::starts() const { return pool_->starts_.load(); }

Score ExternalReward::score(const Sample& sample) const {
  int64_t id = g_next_id.fetch_add(1);
  std::string line = request_line(id, sample);
  // The protocol's "id" is a request counter (it pairs a response with its request); errors name the row's
  // own id instead, and callers add the input's file and line.
  std::string what = "reward '" + config_.name + "' (command: " + command_text(config_.command) + ")" +
                     row_id_text(sample);
  std::string error, response;
  bool got = false;
  json::Document doc;
  Child* child = pool_->acquire();
  for (int attempt = 0; attempt < 2 && !got; ++attempt) {
    if (!pool_->ensure_started(child, error)) {
      pool_->record(false);
      break;
    }
    got = child->request(line, config_.timeout_ms, config_.startup_timeout_ms, response, error);
    if (got) {  // a protocol error leaves the stream out of step: restart the child
      doc.Parse(response.data(), response.size());
      const json::Value* rid = doc.HasParseError() || !doc.IsObject() ? nullptr : json::find(doc, "id");
      if (rid == nullptr || !rid->IsInt64() || rid->GetInt64() != id) {
        got = false;
        error = "bad response (not a JSON object with \"id\": " + std::to_string(id) + "): " + response.substr(0, 200);
      }
    }
    if (!got) {
      const std::string tail = child->stderr_tail();
      if (!tail.empty()) error += "; its stderr ended with:" + tail;
      child->stop();  // killed here, restarted on the retry or the next request
      pool_->record(false);
    }
  }
  // A reported error often comes with a traceback on stderr: read it while the child is still ours.
  std::string reported_tail;
  if (got && json::find(doc, "error") != nullptr) reported_tail = child->stderr_tail();
  pool_->release(child);

  Score s;
  auto failed = [&](const std::string& message) -> Score {
    if (config_.on_error == OnError::Raise) fail(what, ": ", message);
    Score e;
    e.value = config_.error_score;
    e.components = {{"error", 1.0}};
    e.reason = message;
    return e;
  };
  if (!got) return failed(error);
  pool_->record(true);
  if (const json::Value* err = json::find(doc, "error"))
    return failed(std::string("the process reported: ") + (err->IsString() ? err->GetString() : json::dump(*err)) +
                  (reported_tail.empty() ? "" : "; its stderr ended with:" + reported_tail));
  const json::Value* score = json::find(doc, "score");
  if (score == nullptr || !score->IsNumber()) return failed("response has no numeric 'score'");
  s.value = score->GetDouble();
  if (const json::Value* comps = json::find(doc, "components")) {
    if (!comps->IsObject()) return failed("'components' must be an object of numbers");
    for (auto it = comps->MemberBegin(); it != comps->MemberEnd(); ++it) {
      if (!it->value.IsNumber()) return failed("component '" + std::string(it->name.GetString()) + "' is not a number");
      s.components.emplace_back(it->name.GetString(), it->value.GetDouble());
    }
  }
  if (const json::Value* reason = json::find(doc, "reason"))
    if (reason->IsString()) s.reason = reason->GetString();
  return s;
}

const std::vector<std::pair<OnError, const char*>>& enum_names(OnError) {
  static const std::vector<std::pair<OnError, const char*>> names = {{OnError::Raise, "raise"}, {OnError::Score, "score"}};
  return names;
}

void ExternalConfig::validate(const std::string& where) const {
  R1_CHECK(!command.empty() && !command[0].empty(), where, ": option 'command' is required");
  R1_CHECK(timeout_ms > 0, where, ": option 'timeout_ms' must be positive, got ", timeout_ms);
  R1_CHECK(startup_timeout_ms > 0, where, ": option 'startup_timeout_ms' must be positive, got ", startup_timeout_ms);
  R1_CHECK(processes >= 1 && processes <= 256, where, ": option 'processes' must be in [1, 256], got ", processes);
  R1_CHECK(max_restarts >= 0, where, ": option 'max_restarts' must be >= 0, got ", max_restarts);
}

void register_external_reward(Registry& registry) {
  add_reward_of<ExternalReward, ExternalConfig>(registry, "external",
      "a reward computed by a long-lived child process speaking JSON lines (any language)");
}

}  // namespace r1::rewards
