// Tests for common/: JSON errors with locations, JSONL bad-line handling, atomic writes, thread pool.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/jsonl.h"
#include "common/progress.h"
#include "common/thread_pool.h"

namespace r1 {
namespace {

std::string temp_dir() {
  auto dir = std::filesystem::temp_directory_path() / ("r1_common_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

TEST(Json, ParseErrorNamesOriginLineAndColumn) {
  try {
    json::parse("{\n  \"a\": 1,\n  \"b\": ?\n}", "recipe.json", true);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("recipe.json:3:8"), std::string::npos) << e.what();
  }
}

TEST(Json, CommentsOnlyWhenAllowed) {
  const char* text = "{ // comment\n \"a\": 1, /* c */ \"b\": [1,2,],\n}";
  EXPECT_NO_THROW(json::parse(text, "x", true));
  EXPECT_THROW(json::parse(text, "x", false), Error);
}

TEST(Json, DeepNestingParsesWithoutOverflowingTheStack) {
  // One JSONL line of nested brackets used to recurse once per level in the parser (a stack overflow, found by
  // tests/fuzz/preference_fuzz.cpp); the iterative parser keeps its stack on the heap.
  const size_t depth = 1000000;
  const std::string closed = std::string(depth, '[') + std::string(depth, ']');
  EXPECT_TRUE(json::parse(closed, "deep.jsonl:1").IsArray());
  try {
    json::parse(std::string(depth, '['), "deep.jsonl:2");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("deep.jsonl:2:1:1000001"), std::string::npos) << e.what();
  }
}

TEST(Json, NumbersAreConvertedExactlyAndSafely) {
  // rapidjson 1.1's own conversion read far out of bounds on this line (found by tests/fuzz/preference_fuzz.cpp);
  // strtod converts it (it underflows to 0 after the 19-digit mantissa).
  const json::Document tiny = json::parse(
      "[8888888888888888833.33333000000000013339999999999999999999998888888888883E-381, 1e-700, -2.5e-3]", "n.jsonl:1");
  EXPECT_GE(tiny[0].GetDouble(), 0.0);
  EXPECT_LT(tiny[0].GetDouble(), 1e-300);
  EXPECT_EQ(tiny[1].GetDouble(), 0.0);
  EXPECT_EQ(tiny[2].GetDouble(), -0.0025);
  const json::Document ints = json::parse(
      "[3, -3, 4294967296, 18446744073709551615, -9223372036854775808, 18446744073709551616, 0.1, NaN, -Infinity]",
      "n.jsonl:2");
  EXPECT_TRUE(ints[0].IsInt() && ints[0].GetInt() == 3);
  EXPECT_TRUE(ints[1].IsInt() && ints[1].GetInt() == -3);
  EXPECT_TRUE(ints[2].IsInt64() && ints[2].GetInt64() == 4294967296LL);
  EXPECT_TRUE(ints[3].IsUint64() && ints[3].GetUint64() == 18446744073709551615ULL);
  EXPECT_TRUE(ints[4].IsInt64() && ints[4].GetInt64() == std::numeric_limits<int64_t>::min());
  EXPECT_TRUE(ints[5].IsDouble() && ints[5].GetDouble() == 18446744073709551616.0);  // beyond uint64: a double
  EXPECT_EQ(ints[6].GetDouble(), 0.1);  // correctly rounded
  EXPECT_TRUE(std::isnan(ints[7].GetDouble()));
  EXPECT_EQ(ints[8].GetDouble(), -std::numeric_limits<double>::infinity());
  try {
    json::parse("{\"x\": 1e400}", "n.jsonl:3");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("n.jsonl:3:1:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("oo big to be stored in"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(json::parse("\xEF\xBB\xBF{\"a\": 1}", "bom.json").IsObject());  // a UTF-8 BOM is skipped
}

TEST(Json, TypedAccessErrorsNameTheKey) {
  auto doc = json::parse(R"({"beta": "high", "n": 3, "ids": [1, 2]})", "r.json");
  try {
    json::get_double(doc, "beta", "r.json: grpo");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "r.json: grpo: key 'beta': expected a number, got string");
  }
  EXPECT_THROW(json::get_int(doc, "missing", "r.json"), Error);
  EXPECT_EQ(json::get_int(doc, "n", "r.json"), 3);
  EXPECT_EQ(json::opt_int_list(doc, "ids", "r.json"), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(json::opt_int_list(doc, "n", "r.json"), (std::vector<int64_t>{3}));
  EXPECT_FALSE(json::opt_double(doc, "missing", "r.json").has_value());
}

TEST(Jsonl, BadLineThrowsWithLineNumberOrIsSkipped) {
  std::string path = temp_dir() + "/in.jsonl";
  {
    std::ofstream out(path);
    out << "{\"a\": 1}\n\n{\"a\": 2\n[1]\n{\"a\": 3}\n";
  }
  std::vector<size_t> seen;
  try {
    for_each_jsonl(path, [&](size_t line, const json::Value&) { seen.push_back(line); });
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("in.jsonl:3"), std::string::npos) << e.what();
  }
  seen.clear();
  std::vector<size_t> bad;
  JsonlOptions opts;
  opts.skip_bad_lines = true;
  size_t skipped = for_each_jsonl(
      path, [&](size_t line, const json::Value&) { seen.push_back(line); }, opts,
      [&](size_t line, const std::string&) { bad.push_back(line); });
  EXPECT_EQ(skipped, 2u);
  EXPECT_EQ(seen, (std::vector<size_t>{1, 5}));
  EXPECT_EQ(bad, (std::vector<size_t>{3, 4}));
}

TEST(Jsonl, FilterKeepsMatchingObjectLinesAndDropsTornOnes) {
  const std::string path = temp_dir() + "/filter.jsonl";
  EXPECT_EQ(filter_jsonl(path + ".missing", [](const json::Value&) { return true; }), 0u);
  write_file_atomic(path, "{\"step\": 1}\n{\"step\": 2}\n\n[3]\n{\"step\": 3}\n{\"step\": 4, \"x\": [1,");
  auto upto = [](int64_t last) {
    return [last](const json::Value& v) { return json::find(v, "step")->GetInt64() <= last; };
  };
  // The array line and the torn last line go whatever keep() says; step 3 goes by keep().
  EXPECT_EQ(filter_jsonl(path, upto(2)), 3u);
  EXPECT_EQ(read_file(path), "{\"step\": 1}\n{\"step\": 2}\n");
  // Nothing to drop: the file is left as it is, and appending continues on a line of its own.
  EXPECT_EQ(filter_jsonl(path, upto(9)), 0u);
  {
    JsonlWriter w(path);
    w.write_raw_line("{\"step\": 3}");
  }
  EXPECT_EQ(read_file(path), "{\"step\": 1}\n{\"step\": 2}\n{\"step\": 3}\n");
}

TEST(Fs, AtomicWriteReplacesAndLeavesNoTemp) {
  std::string dir = temp_dir() + "/atomic";
  make_dirs(dir);
  std::string path = dir + "/f.txt";
  write_file_atomic(path, "one");
  write_file_atomic(path, "two");
  EXPECT_EQ(read_file(path), "two");
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir)) files += e.is_regular_file();
  EXPECT_EQ(files, 1u);
  EXPECT_THROW(write_file_atomic(dir + "/no/such/dir/f", "x"), Error);
  EXPECT_THROW(read_file(dir + "/missing"), Error);
}

TEST(Fs, ReplaceDirAtomic) {
  std::string base = temp_dir() + "/dirs";
  make_dirs(base + "/stage");
  write_file_atomic(base + "/stage/a", "new");
  make_dirs(base + "/target");
  write_file_atomic(base + "/target/a", "old");
  replace_dir_atomic(base + "/stage", base + "/target");
  EXPECT_EQ(read_file(base + "/target/a"), "new");
  EXPECT_FALSE(path_exists(base + "/stage"));
}

TEST(ThreadPool, ParallelForCoversEveryIndexAndRethrows) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(1000);
  pool.parallel_for(hits.size(), [&](size_t i) { hits[i]++; });
  for (auto& h : hits) EXPECT_EQ(h.load(), 1);
  EXPECT_THROW(pool.parallel_for(10, [](size_t i) { if (i == 7) fail("boom"); }), Error);
  // The pool is still usable after an exception.
  std::atomic<int> n{0};
  pool.parallel_for(5, [&](size_t) { n++; });
  EXPECT_EQ(n.load(), 5);
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(ProgressBar::format_duration(5), "00:05");
  EXPECT_EQ(ProgressBar::format_duration(3725), "1:02:05");
  EXPECT_EQ(ProgressBar::format_duration(-1), "--:--");
}

}  // namespace
}  // namespace r1
