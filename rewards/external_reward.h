// The "external" reward: a reward written in any language, run as a child process that speaks JSON
// lines on stdin/stdout.
//
// Protocol (one line each way per sample; the process may keep state between lines):
//   request  {"id": 7, "prompt": "...", "completion": "...", "row": {...} | null,
//             "completion_tokens": 123 | -1, "truncated": false}
//   response {"id": 7, "score": 0.5, "components": {"name": 0.5, ...}, "reason": "..."}   (last two optional)
//         or {"id": 7, "error": "message"}
// Lines on stdout that do not start with "{" are ignored (debug prints); logs belong on stderr. The "id" is
// a request counter that pairs each response with its request (a response must echo it); it is not the
// row's id. Errors name the command as typed, the row's own "id" when it has one, and quote the last
// lines the child wrote to stderr (kept, not printed, unless log_stderr: then stderr is r1's, live), so a
// crashing script's traceback appears once, inside the error.
//
// Lifecycle: `processes` children are started on first use and kept alive across batches (a batch is
// scored on up to that many children at once). A child that exits, closes its stdout, answers garbage
// or exceeds `timeout_ms` for one request (`startup_timeout_ms` for the first request of a fresh child,
// which includes starting the interpreter) is killed (its whole process group) and restarted, and the
// request is retried once on the fresh child; if that fails too, the request raises an error naming
// the command (on_error "raise") or scores `error_score` with component "error" = 1 (on_error "score").
// More than `max_restarts` restarts in a row (a command that cannot start) is always an error.
//
// Not a sandbox: the command runs with the caller's privileges and environment. Use the sandbox for
// untrusted code; this is for the user's own reward scripts. Example: rewards/examples/keyword_reward.py.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "rewards/reward.h"

namespace r1::rewards {

enum class OnError { Raise, Score };
// Option names of OnError: "raise", "score" (config_io.h).
const std::vector<std::pair<OnError, const char*>>& enum_names(OnError);

// The options of the external reward.
struct ExternalConfig {
  std::vector<std::string> command;  // argv; a single string is run with /bin/sh -c
  double timeout_ms = 30000;
  double startup_timeout_ms = 30000;  // the first request of a fresh child (includes interpreter start-up)
  int processes = 1;
  OnError on_error = OnError::Raise;
  double error_score = 0.0;
  int max_restarts = 5;
  bool log_stderr = false;
  std::string name = "external";

  template <class V>
  void visit(V& v) {
    v("command", command, "argv, or one string run with /bin/sh -c (required)");
    v("timeout_ms", timeout_ms, "per request (> 0); a late child is killed and restarted");
    v("startup_timeout_ms", startup_timeout_ms, "the first request of a fresh child (interpreter start-up; > 0)");
    v("processes", processes, "children scoring in parallel, in [1, 256]");
    v("on_error", on_error, "after one restart and retry, raise an error | score error_score");
    v("error_score", error_score, "score when on_error is \"score\"");
    v("max_restarts", max_restarts, "restarts in a row before giving up (>= 0)");
    v("log_stderr", log_stderr, "pass the process's stderr through live (default: keep it and quote its last "
                                "lines in errors)");
    v("name", name, "name used in logs and errors");
  }
  void validate(const std::string& where) const;
};

class ExternalProcessPool;

class ExternalReward : public Reward {
 public:
  explicit ExternalReward(ExternalConfig config);
  ~ExternalReward() override;
  std::string name() const override { return config_.name; }
  Score score(const Sample& sample) const override;
  // Children started so far (restarts included); for tests and logs.
  int starts() const;

 private:
  ExternalConfig config_;
  ExternalProcessPool* pool_;
};

}  // namespace r1::rewards
