// `r1 reward list` and `r1 reward score` through the real binary (skipped when r1 is not built, e.g.
// when only this suite was built): output per line with ids, errors naming the line, --skip-bad.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

struct CliRun {
  int status = -1;
  std::string out;  // stdout and stderr together
};

CliRun run(const std::string& args) {
  CliRun r;
  std::string cmd = std::string(R1_BINARY) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string temp_file(const std::string& name, const std::string& content) {
  std::string path = ::testing::TempDir() + "/r1_cli_" + std::to_string(getpid()) + "_" + name;
  std::ofstream(path) << content;
  return path;
}

class RewardCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(R1_BINARY, X_OK) != 0) GTEST_SKIP() << "r1 binary not built: " << R1_BINARY;
  }
};

TEST_F(RewardCli, ListShowsRewardsAndOptions) {
  CliRun r = run("reward list");
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* name : {"math\n", "accuracy\n", "format\n", "language\n", "overlong\n", "cosine_length\n",
                           "repetition\n", "countdown\n", "reasoning_steps\n", "answer_key (string, \"answer\")"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name;
}

TEST_F(RewardCli, ScoreWritesOneLinePerInputInOrder) {
  std::string in = temp_file("in.jsonl",
                             "{\"id\": 1, \"completion\": \"<think>a</think> <answer>4</answer>\", \"answer\": \"4\"}\n"
                             "\n"
                             "{\"id\": \"two\", \"completion\": \"\\\\boxed{5}\", \"answer\": \"4\"}\n"
                             "{\"completion\": \"The answer is 18.\", \"answer\": \"#### 18\"}\n");
  std::string out = ::testing::TempDir() + "/r1_cli_out_" + std::to_string(getpid()) + ".jsonl";
  CliRun r = run("reward score --reward math,format --input " + in + " --output " + out + " --threads 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("scored 3 lines"), std::string::npos) << r.out;
  std::ifstream f(out);
  std::string l1, l2, l3, extra;
  ASSERT_TRUE(std::getline(f, l1) && std::getline(f, l2) && std::getline(f, l3));
  EXPECT_FALSE(std::getline(f, extra));
  EXPECT_EQ(l1, "{\"id\":1,\"score\":2.0,\"components\":{\"math\":1.0,\"math/correct\":1.0,\"math/found\":1.0,"
                "\"format\":1.0,\"format/ok\":1.0,\"format/tags\":1.0}}");
  EXPECT_EQ(l2.rfind("{\"id\":\"two\",\"score\":0.0,", 0), 0u) << l2;
  EXPECT_EQ(l3.rfind("{\"score\":1.0,", 0), 0u) << l3;
}

TEST_F(RewardCli, BadLinesNameTheLineOrAreSkipped) {
  std::string in = temp_file("bad.jsonl",
                             "{\"id\": 1, \"completion\": \"\\\\boxed{4}\", \"answer\": \"4\"}\n"
                             "{\"id\": 2, \"answer\": \"4\"}\n"
                             "this is not json\n"
                             "{\"id\": 4, \"completion\": \"\\\\boxed{4}\"}\n"
                             "{\"id\": 5, \"completion\": \"\\\\boxed{3}\", \"answer\": \"3\"}\n");
  CliRun strict = run("reward score --reward math --input " + in);
  EXPECT_EQ(strict.status, 1);
  EXPECT_NE(strict.out.find(in + ":2: no field 'completion'"), std::string::npos) << strict.out;
  CliRun skip = run("reward score --reward math --input " + in + " --skip-bad --reasons");
  EXPECT_EQ(skip.status, 0) << skip.out;
  EXPECT_NE(skip.out.find("skipped " + in + ":2: no field 'completion'"), std::string::npos) << skip.out;
  EXPECT_NE(skip.out.find("skipped " + in + ":3:"), std::string::npos) << skip.out;
  EXPECT_NE(skip.out.find("skipped " + in + ":4: reward 'math': the row has no field 'answer'"), std::string::npos)
      << skip.out;
  EXPECT_NE(skip.out.find("{\"id\":1,\"score\":1.0"), std::string::npos) << skip.out;
  EXPECT_NE(skip.out.find("{\"id\":5,\"score\":1.0"), std::string::npos) << skip.out;
  EXPECT_NE(skip.out.find("\"reason\":\"boxed 3 == gold 3\""), std::string::npos) << skip.out;
  EXPECT_NE(skip.out.find("scored 2 lines"), std::string::npos) << skip.out;
  EXPECT_NE(skip.out.find("(3 skipped)"), std::string::npos) << skip.out;
  CliRun unknown = run("reward score --reward nosuch --input " + in);
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.out.find("unknown reward 'nosuch'"), std::string::npos) << unknown.out;
}

TEST_F(RewardCli, AnExternalScriptThatCrashesIsNamedWithItsLineRowAndTracebackOnce) {
  // What a user met: the error named only argv[0] ("command 'python3'"), set "line 1" beside the protocol's
  // request counter, and a crashing script printed its traceback on every restart and retry.
  const std::string script = std::string(R1_SOURCE_DIR) + "/tests/rewards/scripts/crashing_reward.py";
  std::string in = temp_file("crash.jsonl",
                             "{\"id\": \"a\", \"completion\": \"ok\"}\n"
                             "{\"id\": \"b\", \"completion\": \"fine\"}\n"
                             "{\"id\": \"row-17\", \"completion\": \"crash\"}\n");
  CliRun r = run("reward score --input " + in + " --reward '{\"name\": \"external\", \"options\": {\"command\": "
                 "[\"python3\", \"" + script + "\"]}}'");
  EXPECT_EQ(r.status, 1) << r.out;
  for (const std::string& part : std::vector<std::string>{in + ":3: ", "command: python3 " + script, "row id \"row-17\"",
                                 "its stderr ended with:", "ZeroDivisionError", "about to divide"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << "missing '" << part << "' in:\n" << r.out;
  }
  // The traceback once (inside the error), not once per restart and retry.
  size_t tracebacks = 0;
  for (size_t at = r.out.find("Traceback"); at != std::string::npos; at = r.out.find("Traceback", at + 1)) ++tracebacks;
  EXPECT_EQ(tracebacks, 1u) << r.out;
  // log_stderr passes the script's stderr through live instead.
  CliRun live = run("reward score --input " + in + " --reward '{\"name\": \"external\", \"options\": {\"command\": "
                    "[\"python3\", \"" + script + "\"], \"log_stderr\": true, \"max_restarts\": 0}}'");
  EXPECT_EQ(live.status, 1);
  EXPECT_NE(live.out.find("ZeroDivisionError"), std::string::npos) << live.out;
  EXPECT_EQ(live.out.find("its stderr ended with"), std::string::npos) << live.out;
}

}  // namespace
