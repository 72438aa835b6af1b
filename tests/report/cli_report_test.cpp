// `r1 report` through the real binary (skipped when it is not built): writes RUN_DIR/report.html or --output
// and prints its path; a missing directory is a usage error.
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

}  // namespace
}  // namespace r1::testing
