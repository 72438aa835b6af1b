// The code-execution reward: acceptance on HumanEval / MBPP reference solutions and the official example
// samples, stdin/stdout scoring, options, and the anti-cheat properties (one cheat per test). Every test
// runs real programs through the sandbox.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/json.h"
#include "common/jsonl.h"
#include "rewards/code/code_harness.h"
#include "rewards/code/code_reward.h"
#include "rewards/options.h"
#include "rewards/registry.h"

namespace r1::rewards {
namespace {

const std::string kData = std::string(R1_SOURCE_DIR) + "/datasets/code";

// A row + completion kept alive together.
struct Case {
  json::Document row;
  Sample sample;
  Case(const std::string& row_json, std::string completion) {
    row = json::parse(row_json, "test row");
    sample.completion = std::move(completion);
    sample.row = &row;
  }
};

CodeRewardOptions opts(const std::string& extra = "{}") {
  json::Document d = json::parse(extra, "options");
  return read_reward_options<CodeRewardOptions>(d, "test options");
}

Score score_one(const std::string& row_json, const std::string& completion, const std::string& options = "{}") {
  Case c(row_json, completion);
  return CodeReward(opts(options)).score(c.sample);
}

// HumanEval/0-like row used by the anti-cheat tests: the only correct completion returns x + 1.
const char* kIncRow =
    R"({"task_id": "t/inc", "prompt": "def inc(x):\n    \"\"\"Return x + 1.\"\"\"\n", "entry_point": "inc",
        "test": "def check(candidate):\n    assert candidate(1) == 2\n    assert candidate(41) == 42\n    assert candidate(-1) == 0\n    assert True, 'end of check'\n"})";

double score_inc(const std::string& body) { return score_one(kIncRow, body).value; }

// For cheats that end with the process exiting 0: the score is 0 *and* the reason shows the cheat ran to
// its exit (status ok, no proof), so the test cannot pass because the cheat itself crashed.
void expect_exit_zero_without_proof(const std::string& body) {
  const Score s = score_one(kIncRow, body);
  EXPECT_EQ(s.value, 0.0) << s.reason;
  EXPECT_NE(s.reason.find("no completion proof"), std::string::npos) << s.reason;
}

TEST(CodeRewardHumanEval, AllCanonicalSolutionsPass) {
  CodeRewardOptions o;
  o.format = CodeFormat::HumanEval;
  o.timeout_s = 20;  // generous: a loaded CI machine must not turn a slow reference into a failure
  const ReferenceReport report = check_reference_solutions(kData + "/humaneval/HumanEval.jsonl", o, 4);
  ASSERT_EQ(report.checks.size(), 164u);
  for (const auto& c : report.checks) EXPECT_TRUE(c.passed) << c.id << ": " << c.reason;
}

TEST(CodeRewardHumanEval, ExampleSamplesGivePassAtOneHalf) {
  json::Document problem;
  for_each_jsonl(kData + "/humaneval/example_problem.jsonl",
                 [&](size_t, const json::Value& row) { problem.CopyFrom(row, problem.GetAllocator()); });
  std::vector<Sample> samples;
  for_each_jsonl(kData + "/humaneval/example_samples.jsonl", [&](size_t, const json::Value& row) {
    Sample s;
    s.completion = json::get_string(row, "completion", "example_samples");
    s.row = &problem;
    samples.push_back(s);
  });
  ASSERT_EQ(samples.size(), 6u);
  CodeRewardOptions o;
  o.timeout_s = 3.0;  // HumanEval's own per-sample timeout; the sleep(10) sample must fail on it
  const std::vector<Score> scores = CodeReward(o).score_batch(samples, nullptr);
  double sum = 0;
  for (const Score& s : scores) sum += s.value;
  EXPECT_DOUBLE_EQ(sum / 6.0, 0.5);
  EXPECT_EQ(scores[0].value, 0.0) << scores[0].reason;  // rm -rf via subprocess, returns None
  EXPECT_EQ(scores[1].value, 0.0) << scores[1].reason;  // sleep(10)
  EXPECT_NE(scores[1].reason.find("timeout"), std::string::npos) << scores[1].reason;
  EXPECT_EQ(scores[2].value, 0.0) << scores[2].reason;  // input(): EOF
  EXPECT_EQ(scores[3].value, 1.0) << scores[3].reason;
  EXPECT_EQ(scores[4].value, 1.0) << scores[4].reason;  // two-space indent
  EXPECT_EQ(scores[5].value, 1.0) << scores[5].reason;  // tab indent
}

// Every 4th MBPP problem (244 of 974) in binary mode; the full set is checked by `r1 bench sandbox --mbpp`
// (BENCHMARKS.md).
TEST(CodeRewardMbpp, ReferenceSolutionsPassOnADeterministicSubset) {
  CodeRewardOptions o;
  o.format = CodeFormat::Mbpp;
  o.score = CodeScore::Binary;
  o.timeout_s = 20;
  const ReferenceReport report = check_reference_solutions(kData + "/mbpp/mbpp.jsonl", o, 4, 4);
  ASSERT_EQ(report.checks.size(), 244u);
  for (const auto& c : report.checks) EXPECT_TRUE(c.passed) << "mbpp " << c.id << ": " << c.reason;
}

TEST(CodeRewardMbpp, FractionCountsEachAssert) {
  const char* row = R"({"task_id": 1, "test_setup_code": "OFFSET = 1",
      "test_list": ["assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 5"]})";
  const Score s = score_one(row, "```python\ndef f(x):\n    return x + OFFSET\n```");
  EXPECT_NEAR(s.value, 2.0 / 3.0, 1e-12) << s.reason;
  EXPECT_NE(s.reason.find("test 3"), std::string::npos) << s.reason;
  EXPECT_EQ(score_one(row, "```python\ndef f(x):\n    return x + OFFSET\n```", R"({"score": "binary"})").value, 0.0);
}

TEST(CodeRewardMbpp, SetupCodeRunsAfterTheSolution) {
  // Like MBPP 367/927: the setup builds objects of a class the solution defines.
  const char* row = R"J({"task_id": 367, "test_setup_code": "root = Node(3)",
      "test_list": ["assert value(root) == 3"]})J";
  const Score s = score_one(row, "class Node:\n    def __init__(self, v):\n        self.v = v\n\ndef value(n):\n    return n.v\n");
  EXPECT_EQ(s.value, 1.0) << s.reason;
}

TEST(CodeRewardStdio, FractionOfCasesWithNormalisedComparison) {
  const char* row = R"({"tests": [{"input": "1 2\n", "output": "3\n"}, {"input": "5 5\n", "output": "10\n\n\n"},
                                  {"input": "2 2\n", "output": "5\n"}]})";
  const Score s = score_one(row, "```python\na, b = map(int, input().split())\nprint( a + b , end='  \\n')\n```");
  EXPECT_NEAR(s.value, 2.0 / 3.0, 1e-12) << s.reason;
  EXPECT_NE(s.reason.find("wrong answer"), std::string::npos) << s.reason;
}

TEST(CodeRewardStdio, InputOutputStringLayoutAndBinaryScore) {
  const char* row = R"({"input_output": "{\"inputs\": [\"3\\n\", \"4\\n\"], \"outputs\": [\"9\\n\", \"16\\n\"]}"})";
  EXPECT_EQ(score_one(row, "```py\nn = int(input())\nprint(n * n)\n```", R"({"score": "binary"})").value, 1.0);
}

TEST(CodeRewardStdio, FloatToleranceIsOptIn) {
  const char* row = R"({"inputs": ["\n"], "outputs": ["0.3333333\n"]})";
  const std::string code = "```python\nprint(1/3)\n```";
  EXPECT_EQ(score_one(row, code).value, 0.0);
  EXPECT_EQ(score_one(row, code, R"({"float_tolerance": 1e-6})").value, 1.0);
}

TEST(CodeRewardStdio, CppSolutionCompiledOnceRunPerCase) {
  const char* row = R"({"tests": [{"input": "3\n", "output": "6\n"}, {"input": "10\n", "output": "20\n"}]})";
  const std::string code = "```cpp\n#include <iostream>\nint main(){long n; std::cin >> n; std::cout << 2*n << '\\n';}\n```";
  const Score s = score_one(row, code, R"({"language": "cpp"})");
  EXPECT_EQ(s.value, 1.0) << s.reason;
}

TEST(CodeRewardStdio, CppCompileErrorScoresZeroWithReason) {
  const char* row = R"({"tests": [{"input": "3\n", "output": "6\n"}]})";
  const Score s = score_one(row, "```cpp\nint main( { return 0; }\n```", R"({"language": "cpp"})");
  EXPECT_EQ(s.value, 0.0);
  EXPECT_NE(s.reason.find("compile_error"), std::string::npos) << s.reason;
}

TEST(CodeRewardExtraction, NoCodeBlockScoresZero) {
  const Score s = score_one(kIncRow, "I would write ```text\nx + 1\n``` somewhere.", R"({"extract": "block"})");
  EXPECT_EQ(s.value, 0.0);
  EXPECT_EQ(s.components.back().first, "extracted");
  EXPECT_EQ(s.components.back().second, 0.0);
}

TEST(CodeRewardScore, CorrectComponentMeansEveryTestPassed) {
  // The accuracy signal of code RL: 1 only when all tests pass, whatever the partial-credit score says.
  const Score right = score_one(kIncRow, "```python\ndef inc(x):\n    return x + 1\n```");
  ASSERT_FALSE(right.components.empty());
  EXPECT_EQ(right.components.front().first, "correct");
  EXPECT_EQ(right.components.front().second, 1.0) << right.reason;
  const Score partly = score_one(kIncRow, "```python\ndef inc(x):\n    return 2 if x == 1 else 0\n```");
  EXPECT_EQ(partly.components.front().second, 0.0) << partly.reason;
  const Score none = score_one(kIncRow, "no code at all");
  EXPECT_EQ(none.components.front().second, 0.0);
}

TEST(CodeRewardExtraction, LastPythonBlockAfterThinkIsUsed) {
  const std::string completion =
      "<think>\n```python\ndef inc(x):\n    return x - 1\n```\n</think>\nFirst try:\n```python\ndef inc(x):\n    "
      "return 0\n```\nFixed:\n```python\ndef inc(x):\n    return x + 1\n```\n```text\nnot code\n```\n";
  const Score s = score_one(kIncRow, completion);
  EXPECT_EQ(s.value, 1.0) << s.reason;
}

TEST(CodeRewardOptions, UnknownKeyAndBadValuesAreErrors) {
  EXPECT_THROW(opts(R"({"langauge": "python"})"), Error);
  EXPECT_THROW(opts(R"({"language": "cobol"})"), Error);
  EXPECT_THROW(opts(R"({"timeout_s": 0})"), Error);
  EXPECT_THROW(opts(R"({"score": "half"})"), Error);
  EXPECT_THROW(opts(R"({"language": "cpp", "format": "humaneval"})"), Error);
}

TEST(CodeRewardRows, MissingTestsIsAnErrorNamingTheFields) {
  try {
    score_one(R"({"question": "x"})", "```python\npass\n```");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test_list"), std::string::npos) << e.what();
  }
  EXPECT_THROW(score_one(R"({"test": "x", "entry_point": 5, "prompt": ""})", "pass"), Error);
}

TEST(CodeRewardRegistry, RegisteredAsCode) {
  ASSERT_TRUE(Registry::global().contains("code"));
  json::Document options = json::parse(R"({"timeout_s": 4})", "options");
  const RewardPtr reward = Registry::global().make("code", options, "test");
  Case c(kIncRow, "    return x + 1\n");
  EXPECT_EQ(reward->score(c.sample).value, 1.0);
}

// --- Anti-cheat: each cheat alone must not pass. -------------------------------------------------

TEST(CodeRewardAntiCheat, HonestSolutionPasses) { EXPECT_EQ(score_inc("    return x + 1\n"), 1.0); }

TEST(CodeRewardAntiCheat, SysExitZeroBeforeTheTests) {
  expect_exit_zero_without_proof("    return 0\nimport sys\nsys.exit(0)\n");
}

TEST(CodeRewardAntiCheat, OsExitZeroBeforeTheTests) { expect_exit_zero_without_proof("    return 0\nimport os\nos._exit(0)\n"); }

TEST(CodeRewardAntiCheat, ExitInsideTheCandidateFunction) {
  expect_exit_zero_without_proof("    import os\n    os._exit(0)\n");
}

TEST(CodeRewardAntiCheat, PrintingTheMarkerWithoutTheSecret) {
  expect_exit_zero_without_proof("    return 0\nimport os\nfor s in ['0'*32, 'deadbeef'*4, '']:\n    print('R1-HARNESS-PASS ' + s)\n"
                      "    os.write(1, b'\\nR1-HARNESS-PASS ' + s.encode() + b'\\n')\nos._exit(0)\n");
}

TEST(CodeRewardAntiCheat, ReadingEveryDescriptorForTheSecret) {
  expect_exit_zero_without_proof("    return 0\nimport os\nfor fd in range(64):\n    try:\n        d = os.read(fd, 256)\n"
                      "        os.write(1, b'\\nR1-HARNESS-PASS ' + d.strip() + b'\\n')\n    except OSError:\n        pass\n"
                      "os._exit(0)\n");
}

TEST(CodeRewardAntiCheat, StealingTheSecretThroughFrames) {
  // Walk every frame reachable from here; print every bytes/str local that looks like a secret.
  expect_exit_zero_without_proof("    return 0\nimport sys, os\nf = sys._getframe()\nwhile f is not None:\n"
                      "    for v in list(f.f_locals.values()):\n        if isinstance(v, (bytes, str)) and len(v) == 32:\n"
                      "            s = v if isinstance(v, bytes) else v.encode()\n"
                      "            os.write(1, b'\\nR1-HARNESS-PASS ' + s + b'\\n')\n    f = f.f_back\nos._exit(0)\n");
}

TEST(CodeRewardAntiCheat, StealingTheSecretThroughOtherThreadsAndGc) {
  expect_exit_zero_without_proof("    return 0\nimport sys, os, gc\nfound = []\ntry:\n    for fr in sys._current_frames().values():\n"
                      "        found += list(fr.f_locals.values())\nexcept RuntimeError:\n    pass\ntry:\n"
                      "    found += gc.get_objects()\nexcept RuntimeError:\n    pass\nfor v in found:\n"
                      "    if isinstance(v, bytes) and len(v) == 32:\n        os.write(1, b'\\nR1-HARNESS-PASS ' + v + b'\\n')\n"
                      "os._exit(0)\n");
}

TEST(CodeRewardAntiCheat, ReadingMemoryWithCtypes) {
  expect_exit_zero_without_proof("    return 0\ntry:\n    import ctypes\n    ctypes.string_at(id(0), 8)\nexcept Exception:\n    pass\n"
                      "import os\nos._exit(0)\n");
}

TEST(CodeRewardAntiCheat, CraftedCodeObjectsAreRefused) {
  expect_exit_zero_without_proof("    return 0\nimport os, types\nc = (lambda: 0).__code__\n"
                                 "for make in (lambda: c.replace(co_consts=(1,)), lambda: types.CodeType(*[getattr(c, 'co_' + n) for n in ("
                                 "'argcount', 'posonlyargcount', 'kwonlyargcount', 'nlocals', 'stacksize', 'flags', 'code', 'consts', "
                                 "'names', 'varnames', 'filename', 'name', 'qualname', 'firstlineno', 'linetable', 'exceptiontable', "
                                 "'freevars', 'cellvars')])):\n    try:\n        make()\n        os._exit(7)  # made it: the defence failed\n    except RuntimeError:\n"
                                 "        pass\nos._exit(0)\n");
}

TEST(CodeRewardAntiCheat, PatchingPrintStdoutAndOs) {
  EXPECT_EQ(score_inc("    return 0\nimport builtins, os, sys\nbuiltins.print = lambda *a, **k: None\n"
                      "os.write = lambda fd, b: len(b)\nos._exit = lambda c: None\nsys.exit = lambda *a: None\n"
                      "class Out:\n    def write(self, s): return len(s)\n    def flush(self): pass\nsys.stdout = Out()\n"),
            0.0);
}

TEST(CodeRewardAntiCheat, TracerJumpingOverTheAsserts) {
  // Without the audit hook this tracer makes check() jump from its first assert to its last line and pass.
  const Score s = score_one(kIncRow,
                            "    return 0\nimport sys\ndef tracer(frame, event, arg):\n"
                            "    if event == 'line' and frame.f_code.co_name == 'check':\n"
                            "        last = max(l for _, _, l in frame.f_code.co_lines() if l)\n"
                            "        if frame.f_lineno != last:\n            frame.f_lineno = last\n"
                            "    return tracer\nsys.settrace(tracer)\n");
  EXPECT_EQ(s.value, 0.0) << s.reason;
  EXPECT_NE(s.reason.find("blocked by the r1 test harness: sys.settrace"), std::string::npos) << s.reason;
}

TEST(CodeRewardAntiCheat, ReleasingTheHarnessLocksFromAThread) {
  // Knows the harness: grabs its locks through the frames and fakes the "tests done" signal while the
  // main thread is still in the candidate.
  expect_exit_zero_without_proof("    return 0\nimport sys, threading, time, os\nf = sys._getframe()\nlocks = []\n"
                      "while f is not None:\n    for v in list(f.f_locals.values()):\n"
                      "        if type(v).__name__ == 'lock':\n            locks.append(v)\n    f = f.f_back\n"
                      "def poke():\n    for _ in range(50):\n        for l in locks:\n            try:\n"
                      "                l.release()\n            except RuntimeError:\n                pass\n"
                      "        time.sleep(0.01)\nthreading.Thread(target=poke).start()\ntime.sleep(1)\nos._exit(0)\n");
}

TEST(CodeRewardAntiCheat, KillingTheParentThenExitingZero) {
  expect_exit_zero_without_proof("    return 0\nimport os, signal\nfor pid in (os.getppid(), 1, -1):\n    try:\n"
                      "        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\nos._exit(0)\n");
}

TEST(CodeRewardAntiCheat, SwallowingTheTestsInAStringDoesNotCompileThem) {
  // An unterminated triple-quoted string would eat the tests if everything were one file.
  EXPECT_EQ(score_inc("    return 0\nx = '''\n"), 0.0);
}

TEST(CodeRewardAntiCheat, StdioProgramExitingEarlyFails) {
  const char* row = R"({"tests": [{"input": "3\n", "output": "6\n"}]})";
  EXPECT_EQ(score_one(row, "```cpp\n#include <cstdlib>\nint main(){ std::exit(0); }\n```", R"({"language": "cpp"})").value, 0.0);
  EXPECT_EQ(score_one(row, "```python\nimport os\nos._exit(0)\n```").value, 0.0);
}

TEST(CodeHarness, ProofNeedsTheExactSecret) {
  const std::string secret = make_secret();
  EXPECT_EQ(secret.size(), 32u);
  EXPECT_NE(secret, make_secret());
  sandbox::Result r;
  r.status = sandbox::Status::ok;
  r.runs.resize(1);
  r.runs[0].status = sandbox::Status::ok;
  r.runs[0].stdout_data = "x\nR1-HARNESS-PASS " + secret + "\n";
  EXPECT_TRUE(harness_passed(r, secret));
  EXPECT_FALSE(harness_passed(r, make_secret()));
  r.runs[0].stdout_data = "R1-HARNESS-PASS " + secret.substr(0, 31) + "\n";
  EXPECT_FALSE(harness_passed(r, secret));
  r.runs[0].stdout_data = "\nR1-HARNESS-PASS " + secret + "\n";
  r.status = sandbox::Status::runtime_error;
  EXPECT_FALSE(harness_passed(r, secret));
}

}  // namespace
}  // namespace r1::rewards
