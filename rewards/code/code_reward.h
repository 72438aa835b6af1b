// The code-execution reward ("code"): runs the program in a model's completion against the row's tests
// in the sandbox (sandbox/) and scores the fraction of tests passed (or 1/0 with score = "binary").
//
// Test formats, chosen from the row's fields (or forced with the "format" option):
//   humaneval  `prompt`, `test`, `entry_point`: prompt + code, then test, then check(entry_point)
//   mbpp       `test_list` (assert statements), optional `test_setup_code` (and `challenge_test_list` with
//              challenge_tests = true): code, setup, then each assert
//   stdio      `tests` [{"input", "output"}], or `inputs` + `outputs`, or `input_output` {"inputs",
//              "outputs"} (an object or a JSON string, the APPS/TACO layout): the program reads stdin and
//              its stdout is compared token by token, line by line (code_compare.h)
// Any language of the sandbox's table works with stdio; humaneval and mbpp are Python.
//
// Anti-cheat. Assert-style tests run under a trusted Python harness (code_harness.h): the candidate and
// the tests execute inside it and a run counts as passed only when the harness prints a 128-bit secret
// that was handed to it on a descriptor, never in a file, argv or the environment, and that it prints
// only after every test statement returned. So sys.exit(0), os._exit(0), printing a "PASSED" marker,
// patching print/sys.stdout/os, or killing the parent (which is the sandbox's init and ignores it) all
// fail. stdio tests compare the output with the expected text, which the program never sees. One run per
// test unit (each assert of an mbpp row, each stdio case shares one sandbox but has its own process), so
// a test that hangs costs only itself.
// Departure from HumanEval's harness: the candidate, the tests and the check call are compiled
// separately, so a completion that opens a string or a comment cannot swallow the tests; and the
// candidate runs with __name__ != "__main__", as in HumanEval's exec().
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/json.h"
#include "rewards/registry.h"
#include "rewards/reward.h"

namespace r1::sandbox {
class Pool;
}

namespace r1::rewards {

enum class CodeFormat { Auto, HumanEval, Mbpp, Stdio };
enum class CodeExtract { Auto, Block, Whole };
enum class CodeScore { Fraction, Binary };
// Option names (config_io.h): "auto" | "humaneval" | "mbpp" | "stdio", "auto" | "block" | "whole",
// "fraction" | "binary".
const std::vector<std::pair<CodeFormat, const char*>>& enum_names(CodeFormat);
const std::vector<std::pair<CodeExtract, const char*>>& enum_names(CodeExtract);
const std::vector<std::pair<CodeScore, const char*>>& enum_names(CodeScore);

// The options of the code reward (read with read_reward_options<CodeRewardOptions>, options.h).
struct CodeRewardOptions {
  std::string language = "python";
  CodeFormat format = CodeFormat::Auto;
  CodeExtract extract = CodeExtract::Auto;
  bool after_think = true;
  CodeScore score = CodeScore::Fraction;
  double timeout_s = 5.0;
  double memory_mb = 512;
  double float_tolerance = 0.0;
  int64_t max_tests = 0;
  bool challenge_tests = false;

  template <class V>
  void visit(V& v) {
    v("language", language, "sandbox language (name or alias), also the fenced-block tag sought");
    v("format", format, "test format; auto: from the row's fields");
    v("extract", extract,
      "auto: last block of the language, else last untagged block, else the whole completion when it has no "
      "fence | block: blocks only | whole: the completion as it is");
    v("after_think", after_think, "only look after the last </think>");
    v("score", score, "fraction of tests passed | binary: 1 when all pass");
    v("timeout_s", timeout_s, "wall and CPU limit per test run, in (0, 3600]");
    v("memory_mb", memory_mb, "address space per process, in [16, 1048576]");
    v("float_tolerance", float_tolerance,
      "stdio numbers within tol*max(1,|expected|) are equal; 0 = exact tokens (>= 0)");
    v("max_tests", max_tests, "use the first N tests, 0 = all (>= 0)");
    v("challenge_tests", challenge_tests, "MBPP: also run challenge_test_list");
  }
  // Ranges, a known language, and a format a non-Python language can run.
  void validate(const std::string& where) const;
};

class CodeReward : public Reward {
 public:
  // pool: the sandbox pool to run on (nullptr: sandbox::Pool::global()).
  explicit CodeReward(CodeRewardOptions options, sandbox::Pool* pool = nullptr);
  std::string name() const override { return "code"; }
  // Components: pass_rate, passed, tests, extracted (1 when code was found).
  Score score(const Sample& sample) const override;
  // Submits every sample's runs to the pool at once (the batch is bounded by the pool, not the caller's
  // thread pool), then collects.
  std::vector<Score> score_batch(const std::vector<Sample>& samples, ThreadPool* pool) const override;
  const CodeRewardOptions& options() const { return options_; }

 private:
  CodeRewardOptions options_;
  sandbox::Pool* pool_;
};

// Registers "code" (called by register_builtin_rewards).
void register_code_reward(Registry& registry);

// Checks a dataset's own reference solutions (HumanEval `canonical_solution`, MBPP `code`) with the
// reward: one entry per row, in file order. Used by `r1 bench sandbox` and the acceptance tests.
struct ReferenceCheck {
  std::string id;      // task_id
  bool passed = false;
  std::string reason;  // the reward's reason
};
struct ReferenceReport {
  std::vector<ReferenceCheck> checks;
  size_t passed = 0;
  double seconds = 0;  // wall time of the whole check
};
// `every`: check rows 0, every, 2*every, ... (a deterministic subset); workers: concurrent sandboxes.
// options.format must be "humaneval" or "mbpp" (it says which field holds the reference).
ReferenceReport check_reference_solutions(const std::string& jsonl_path, CodeRewardOptions options, size_t workers,
                                          size_t every = 1);

}  // namespace r1::rewards
