// Tests for recipe loading, --set overrides and config validation (unknown keys, wrong types).
#include <gtest/gtest.h>

#include "scratch_dir.h"

#include <filesystem>
#include <fstream>

#include "error_of.h"
#include "common/error.h"
#include "common/config_io.h"
#include "rl/recipe.h"

namespace r1::rl {
namespace {

using r1::testing::error_of;

std::string write_recipe(const std::string& name, const std::string& text) {
  return r1::testing::scratch_file(name, text);
}

const char* kRecipe = R"(// r1 run x.json
{
  "seed": 7,
  "stages": [
    {"name": "base", "type": "pretrain", "steps": 10},
    {"name": "zero", "type": "grpo", "grpo": {"beta": 0.001, "epsilon_high": 0.2}, "stop": ["</answer>"]},
  ],
})";


TEST(Recipe, LoadsWithCommentsAndDefaults) {
  std::string path = write_recipe("tiny.json", kRecipe);
  Recipe r = load_recipe(path);
  EXPECT_EQ(r.name, "tiny");
  EXPECT_EQ(r.seed, 7);
  EXPECT_EQ(r.output_dir, "runs/tiny");
  ASSERT_EQ(r.stages.size(), 2u);
  EXPECT_EQ(r.stages[1].name, "zero");
  EXPECT_EQ(r.stages[1].type, "grpo");
  EXPECT_NE(r.stages[1].where.find("tiny.json: stages[1] (zero)"), std::string::npos);
}

TEST(Recipe, OverridesByKeyIndexAndStageName) {
  std::string path = write_recipe("o.json", kRecipe);
  Recipe r = load_recipe(path, {"stages.zero.grpo.beta=0.05", "stages.0.steps=3", "seed=9", "output_dir=/tmp/x y",
                                "stages.zero.stop=[\"a\",\"b\"]", "stages.zero.grpo.new_key=1"});
  EXPECT_EQ(r.seed, 9);
  EXPECT_EQ(r.output_dir, "/tmp/x y");
  EXPECT_DOUBLE_EQ(json::get_double(json::get(*r.stages[1].config, "grpo", "t"), "beta", "t"), 0.05);
  EXPECT_EQ(json::get_int(*r.stages[0].config, "steps", "t"), 3);
  EXPECT_EQ(json::get(*r.stages[1].config, "stop", "t").Size(), 2u);
  // A section the recipe does not write is created by the override.
  Recipe d = load_recipe(path, {"stages.zero.dapo.dynamic_sampling=true"});
  EXPECT_TRUE(json::get(json::get(*d.stages[1].config, "dapo", "t"), "dynamic_sampling", "t").GetBool());
}

TEST(Recipe, BadOverridesAndTopLevelErrorsNameTheKey) {
  std::string path = write_recipe("e.json", kRecipe);
  EXPECT_NE(error_of([&] { load_recipe(path, {"stages.nope.steps=1"}); }).find("no element named 'nope'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { load_recipe(path, {"stages.7.steps=1"}); }).find("out of range"), std::string::npos);
  EXPECT_NE(error_of([&] { load_recipe(path, {"seed"}); }).find("expected key.path=value"), std::string::npos);
  EXPECT_NE(error_of([&] { load_recipe(path, {"a.b.c=1"}); }).find("unknown top-level key 'a'"), std::string::npos);
  EXPECT_NE(error_of([&] { load_recipe(path, {"seed.x=1"}); }).find("'seed' is a number"), std::string::npos);
  std::string typo = write_recipe("typo.json", R"({"stagez": []})");
  EXPECT_NE(error_of([&] { load_recipe(typo); }).find("typo.json: unknown top-level key 'stagez'"), std::string::npos);
  std::string dup = write_recipe("dup.json", R"({"stages": [{"name": "a", "type": "x"}, {"name": "a", "type": "y"}]})");
  EXPECT_NE(error_of([&] { load_recipe(dup); }).find("duplicate stage name 'a'"), std::string::npos);
  std::string notype = write_recipe("nt.json", R"({"stages": [{"name": "a"}]})");
  EXPECT_NE(error_of([&] { load_recipe(notype); }).find("nt.json: stages[0]: missing required key 'type'"),
            std::string::npos);
  std::string broken = write_recipe("broken.json", "{\n \"stages\": [\n  {\"type\": \"x\",,}\n]}");
  EXPECT_NE(error_of([&] { load_recipe(broken); }).find("broken.json:3:"), std::string::npos);
}

struct Inner {
  double beta = 0.001;
  std::string mode = "group";
  template <class V>
  void visit(V& v) {
    v("beta", beta);
    v("mode", mode);
  }
};
struct Outer {
  int64_t steps = 10;
  bool flag = false;
  std::vector<std::string> stop;
  RawJson reward;
  Inner inner;
  template <class V>
  void visit(V& v) {
    v("steps", steps);
    v("flag", flag);
    v("stop", stop);
    v("reward", reward);
    v("inner", inner);
  }
};

TEST(ConfigIo, ReadsValidatesAndWritesResolved) {
  auto doc = json::parse(R"({"steps": 4, "inner": {"beta": 2}, "reward": {"name": "math"}, "stop": ["x"]})", "r.json");
  Outer o;
  ConfigReader::read_struct(doc, "r.json: stages[0]", o);
  EXPECT_EQ(o.steps, 4);
  EXPECT_DOUBLE_EQ(o.inner.beta, 2.0);
  EXPECT_EQ(o.inner.mode, "group");
  EXPECT_EQ(o.reward.text, R"({"name":"math"})");
  auto resolved = ConfigWriter::to_document(o);
  EXPECT_EQ(json::dump(resolved),
            R"({"steps":4,"flag":false,"stop":["x"],"reward":{"name":"math"},"inner":{"beta":2.0,"mode":"group"}})");

  auto unknown = json::parse(R"({"inner": {"betta": 1}})", "r.json");
  EXPECT_EQ(error_of([&] { ConfigReader::read_struct(unknown, "r.json: stages[0]", o); }),
            "r.json: stages[0]: key 'inner': unknown key 'betta' (accepted: beta, mode)");
  auto wrong = json::parse(R"({"steps": 2.5})", "r.json");
  EXPECT_EQ(error_of([&] { ConfigReader::read_struct(wrong, "r.json", o); }),
            "r.json: key 'steps': expected an integer, got 2.5");
  auto wrong2 = json::parse(R"({"flag": "yes"})", "r.json");
  EXPECT_EQ(error_of([&] { ConfigReader::read_struct(wrong2, "r.json", o); }),
            "r.json: key 'flag': expected true or false, got string");
}

}  // namespace
}  // namespace r1::rl
