// `r1 data filter` through the real binary (skipped when r1 is not built): every row in exactly one
// output, kept rows byte for byte, dropped rows with their reasons, stats, a bad line named by its line
// number (and nothing written), --skip-bad, --options errors, --help with the defaults.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_run.h"
#include "common/fs.h"
#include "common/json.h"

namespace {

using r1::testing::run_r1_cli;

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  std::ifstream f(path);
  std::string line;
  while (std::getline(f, line)) out.push_back(line);
  return out;
}

class DataFilterCli : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(R1_BINARY, X_OK) != 0) GTEST_SKIP() << "r1 binary not built: " << R1_BINARY;
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("r1_data_filter_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }
  std::string args(const std::string& input) const {
    return "data filter --input " + input + " --output " + path("kept.jsonl") + " --rejected " + path("dropped.jsonl");
  }

  std::filesystem::path dir_;
};

// A clean English CoT of a few sentences, with an answer.
std::string clean(const std::string& what) {
  return "<think>\\nFirst I add the numbers for " + what +
         ", carrying where needed.\\n\\nThen I check the sum by subtracting one part from it.\\n</think>\\n\\nThe "
         "answer is 42.";
}

TEST_F(DataFilterCli, EveryRowLandsInExactlyOneOutputWithItsReasons) {
  std::string long_para(5000, 'a');
  std::string zh_mix = "<think>\\nFirst 我们 add 这两个数 then 检查 the 结果 again 确认 it 正确 now 完成\\n</think>\\n\\n42";
  const std::vector<std::string> rows = {
      // 1 kept, with other fields and odd spacing that must survive byte for byte
      "{\"id\": 1,  \"completion\": \"" + clean("one") + "\", \"prompt\": \"What is 17+25?\", \"meta\": {\"x\": [1, 2.50]}}",
      // 2 mixed language
      "{\"id\": 2, \"completion\": \"" + zh_mix + "\", \"target_lang\": \"en\"}",
      // 3 long paragraph
      "{\"id\": 3, \"completion\": \"<think>" + long_para + "</think>The answer.\"}",
      // 4 code in the CoT and no answer
      "{\"id\": 4, \"completion\": \"<think>Try:\\n```python\\nprint(42)\\n```\\n</think>\\n\"}",
      // 5 code only in the answer: kept
      "{\"id\": 5, \"completion\": \"" + clean("five") + "\\n```python\\nprint(42)\\n```\", \"prompt\": \"p5\"}",
      // 6 display math: kept
      "{\"id\": 6, \"completion\": \"<think>We solve\\n$$\\n    x + 1 = 43\\n    x = 42\\n$$\\nso x is known.</think>x = 42\", \"prompt\": \"p6\"}",
      // 7 truncated by the row flag
      "{\"id\": 7, \"completion\": \"" + clean("seven") + "\", \"truncated\": true}",
      // 8 exact duplicate of row 1 (same prompt)
      "{\"id\": 8, \"completion\": \"" + clean("one") + "\", \"prompt\": \"What is 17+25?\"}",
  };
  std::string input;
  for (size_t i = 0; i < rows.size(); ++i) input += rows[i] + (i == 3 ? "\n\n" : "\n");  // a blank line is not a row
  const std::string in = write("in.jsonl", input);
  auto r = run_r1_cli(args(in) + " --stats " + path("stats.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("filtered 8 rows: 3 kept, 5 dropped"), std::string::npos) << r.err;

  const std::vector<std::string> kept = lines_of(path("kept.jsonl"));
  const std::vector<std::string> dropped = lines_of(path("dropped.jsonl"));
  ASSERT_EQ(kept.size() + dropped.size(), rows.size());
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0], rows[0]);  // byte for byte
  EXPECT_EQ(kept[1], rows[4]);
  EXPECT_EQ(kept[2], rows[5]);

  const std::vector<std::pair<size_t, std::string>> expected = {
      {2, "[\"mixed_language\"]"},
      {3, "[\"long_paragraph\"]"},
      {4, "[\"code_block\",\"no_answer\"]"},
      {7, "[\"truncated\"]"},
      {8, "[\"duplicate\"]"}};
  ASSERT_EQ(dropped.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string& original = rows[expected[i].first - 1];
    // the original bytes, then the reasons before the closing brace
    EXPECT_EQ(dropped[i], original.substr(0, original.size() - 1) + ",\"reasons\":" + expected[i].second + "}");
    r1::json::Document d = r1::json::parse(dropped[i], "dropped");
    EXPECT_EQ(d["id"].GetInt(), static_cast<int>(expected[i].first));
  }

  r1::json::Document stats = r1::json::parse(r1::read_file(path("stats.json")), "stats");
  EXPECT_EQ(stats["rows"].GetInt(), 8);
  EXPECT_EQ(stats["kept"].GetInt(), 3);
  EXPECT_EQ(stats["dropped"].GetInt(), 5);
  EXPECT_EQ(stats["dropped_by"]["code_block"].GetInt(), 1);
  EXPECT_EQ(stats["dropped_by"]["no_answer"].GetInt(), 1);
  EXPECT_EQ(stats["dropped_by"]["duplicate"].GetInt(), 1);
  EXPECT_EQ(stats["dropped_by"]["repetition"].GetInt(), 0);
  EXPECT_EQ(stats["skipped_bad_lines"].GetInt(), 0);
  EXPECT_EQ(stats["options"]["long_paragraph"]["max_chars"].GetInt(), 2000);
  // no temp files left behind
  for (const auto& e : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(e.path().filename().string().find(".tmp."), std::string::npos) << e.path();
}

TEST_F(DataFilterCli, OptionsChangeTheVerdictAndBadOptionsAreNamed) {
  const std::string row = "{\"completion\": \"<think>" + std::string(2500, 'a') + "</think>ok\"}\n";
  const std::string in = write("in.jsonl", row);
  auto r = run_r1_cli(args(in));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines_of(path("dropped.jsonl")).size(), 1u);
  r = run_r1_cli(args(in) + " --options '{\"long_paragraph\": {\"max_chars\": 3000}}'");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines_of(path("kept.jsonl")).size(), 1u);
  EXPECT_EQ(lines_of(path("dropped.jsonl")).size(), 0u);
  // from a file
  const std::string opts = write("opts.json", "// comments allowed\n{\"long_paragraph\": {\"enabled\": false}}\n");
  r = run_r1_cli(args(in) + " --options " + opts);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(lines_of(path("kept.jsonl")).size(), 1u);
  // an unknown option is an error naming it
  r = run_r1_cli(args(in) + " --options '{\"long_paragraph\": {\"max_char\": 3000}}'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("unknown option 'max_char'"), std::string::npos) << r.err;
}

TEST_F(DataFilterCli, BadLineIsNamedAndNothingIsWritten) {
  const std::string good = "{\"completion\": \"" + clean("x") + "\"}\n";
  // previous outputs must survive a failed run (atomic writes)
  write("kept.jsonl", "old kept\n");
  write("dropped.jsonl", "old dropped\n");
  struct Case {
    std::string line, message;
  };
  const std::vector<Case> cases = {
      {"this is not json", "in.jsonl:3: invalid JSON"},
      {"{\"prompt\": \"no completion\"}", "in.jsonl:3: no field 'completion'"},
      {"{\"completion\": 42}", "in.jsonl:3: field 'completion' is not a string"},
      {"[1, 2]", "in.jsonl:3: expected a JSON object"},
      {"{\"completion\": \"" + clean("y") + "\", \"target_lang\": \"xx\"}", "in.jsonl:3: unknown language code 'xx'"},
  };
  for (const Case& c : cases) {
    const std::string in = write("in.jsonl", good + "\n" + c.line + "\n" + good);  // line 2 is blank
    auto r = run_r1_cli(args(in));
    EXPECT_EQ(r.status, 1) << c.line;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
    EXPECT_EQ(r1::read_file(path("kept.jsonl")), "old kept\n");
    EXPECT_EQ(r1::read_file(path("dropped.jsonl")), "old dropped\n");
  }
}

TEST_F(DataFilterCli, SkipBadCountsTheSkippedLines) {
  const std::string in = write("in.jsonl", "{\"completion\": \"" + clean("a") + "\"}\n"
                                           "not json\n"
                                           "{\"completion\": null}\n"
                                           "{\"completion\": \"<think>cut off\"}\n");
  auto r = run_r1_cli(args(in) + " --skip-bad --stats " + path("stats.json"));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.err.find("skipped " + in + ":2: invalid JSON"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skipped " + in + ":3: field 'completion' is not a string"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("2 bad lines skipped"), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(path("kept.jsonl")).size(), 1u);
  ASSERT_EQ(lines_of(path("dropped.jsonl")).size(), 1u);
  EXPECT_NE(lines_of(path("dropped.jsonl"))[0].find("\"reasons\":[\"truncated\",\"no_answer\"]"), std::string::npos);
  r1::json::Document stats = r1::json::parse(r1::read_file(path("stats.json")), "stats");
  EXPECT_EQ(stats["rows"].GetInt(), 2);
  EXPECT_EQ(stats["skipped_bad_lines"].GetInt(), 2);
}

TEST_F(DataFilterCli, ExistingReasonsAreReplacedAndHelpShowsDefaults) {
  const std::string in = write("in.jsonl", "{\"completion\": \"<think>cut\", \"reasons\": [\"old\"], \"k\": 1}\n");
  auto r = run_r1_cli(args(in));
  ASSERT_EQ(r.status, 0) << r.err;
  const std::vector<std::string> dropped = lines_of(path("dropped.jsonl"));
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0], "{\"completion\":\"<think>cut\",\"reasons\":[\"truncated\",\"no_answer\"],\"k\":1}");

  r = run_r1_cli("data filter --help");
  ASSERT_EQ(r.status, 0) << r.err;
  for (const char* s : {"--input", "--rejected", "--skip-bad", "mixed_language.min_target_share (number, 0.9)",
                        "long_paragraph.max_chars (int, 2000)", "code_block.min_indented_lines (int, 2)",
                        "repetition.ngram_size (int, 10)", "duplicate.near_threshold (number, 0.8)"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  r = run_r1_cli("data filter --input x");
  EXPECT_NE(r.status, 0);
}

}  // namespace
