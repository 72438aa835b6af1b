// `r1 report` and `r1 run` through the real binary (skipped when it is not built): `r1 report` writes
// RUN_DIR/report.html or --output and prints its path, a missing directory is a usage error; `r1 run` writes
// the page at its end, and after a failed stage.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_run.h"
#include "common/fs.h"

namespace r1::testing {
namespace {

const std::string kTinyRun = std::string(R1_TEST_DATA) + "/runs/tiny_r1_zero";

class CliReportTest : public CliTest {};

TEST_F(CliReportTest, WritesThePageAndPrintsItsPath) {
  const std::string out = path("page.html");
  Result r = run("report " + kTinyRun + " --output " + out);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "report: " + out + "\n");
  const std::string html = read_file(out);
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_NE(html.find("<svg"), std::string::npos);

  const std::string run_dir = path("run");
  std::filesystem::copy(kTinyRun, run_dir, std::filesystem::copy_options::recursive);
  r = run("report " + run_dir);
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "report: " + run_dir + "/report.html\n");
  const std::string page = read_file(run_dir + "/report.html");  // names its run directory
  EXPECT_NE(page.find("run directory " + run_dir + " "), std::string::npos);
  EXPECT_EQ(page.size() - run_dir.size(), html.size() - kTinyRun.size());

  r = run("report " + path("missing"));
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("missing"), std::string::npos);
}

// `r1 run` writes the page after its last stage and prints its path; after a failed stage too (stderr).
// Two stages that need no model: a few generated documents, then a tokenizer on them or on a broken file.
TEST_F(CliReportTest, RunWritesTheReportAtTheEndAndAfterAFailure) {
  const std::string run_dir = path("run"), broken_dir = path("broken");
  file("bad.jsonl", "{\"text\": \"ok\"}\nnot json\n");
  auto recipe = [&](const std::string& out, const std::string& data) {
    return "{\"name\": \"report_cli\", \"output_dir\": \"" + out + "\", \"seed\": 1, \"stages\": ["
           "{\"name\": \"data\", \"type\": \"synthetic_arithmetic\", \"corpus_size\": 50, \"train_size\": 10, "
           "\"heldout_size\": 5}, {\"name\": \"tok\", \"type\": \"train_tokenizer\", \"data\": [\"" + data +
           "\"], \"vocab_size\": 300}]}";
  };
  Result r = run("run " + file("ok.json", recipe(run_dir, "stage:data/corpus.jsonl")) + " --quiet");
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("run directory: " + run_dir + "\nreport: " + run_dir + "/report.html\n"), std::string::npos)
      << r.out;
  const std::string page = read_file(run_dir + "/report.html");
  EXPECT_NE(page.find("<td>synthetic_arithmetic</td><td>completed</td>"), std::string::npos);
  EXPECT_NE(page.find("<td>train_tokenizer</td><td>completed</td>"), std::string::npos);

  r = run("run " + file("bad.json", recipe(broken_dir, path("bad.jsonl"))) + " --quiet");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.err.find("report of the run so far: " + broken_dir + "/report.html"), std::string::npos) << r.err;
  const std::string partial = read_file(broken_dir + "/report.html");
  EXPECT_NE(partial.find("<td>synthetic_arithmetic</td><td>completed</td>"), std::string::npos);
  EXPECT_NE(partial.find("<td>train_tokenizer</td><td>not completed</td>"), std::string::npos);
}

}  // namespace
}  // namespace r1::testing
