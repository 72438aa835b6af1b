// Reward options and specs through the one mechanism: every built-in reward's options struct round-trips
// (defaults written = defaults read), unknown options, wrong types, out-of-range values and bad choices are
// errors naming the place, the reward and the option; the spec walker sees exactly the parts the builder
// builds for every spec form; validate() checks a spec without starting a process or loading a library;
// normalize() writes every default, is idempotent and builds the same reward. (That docs/rewards.md holds the
// generated options tables is tested in tests/rl/reward_docs_test.cpp, beside rl's reward_model reward.)
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "common/error.h"
#include "rewards/composite.h"
#include "rewards/options.h"
#include "rewards/reward_spec.h"
#include "error_of.h"
#include "rewards_test_util.h"

namespace r1::rewards {
namespace {

using r1::testing::error_of;

using testing::score_with;


// Options a reward needs besides its defaults (its required keys).
std::string required_options(const std::string& name) {
  if (name == "external") return R"({"command": "true"})";
  if (name == "plugin") return std::string(R"({"library": ")") + R1_EXAMPLE_PLUGIN + R"(", "reward": "example_keyword"})";
  return "{}";
}

std::string spec_of(const std::string& name, const std::string& options) {
  return R"({"name": ")" + name + R"(", "options": )" + options + "}";
}

json::Document normalize_text(const std::string& spec_text, const std::string& where = "test") {
  json::Document spec = json::parse(spec_text, where);
  return Registry::global().normalize(spec, where);
}

// The built-in rewards with an options struct (all of them).
std::vector<RewardInfo> builtin_rewards() {
  Registry registry;
  register_builtin_rewards(registry);
  return registry.list();
}

// The default of an option of `info` as the normalised options object shows it ("math.answer_key" is
// options["math"]["answer_key"]).
const json::Value* option_in(const json::Value& options, const std::string& dotted) {
  const json::Value* v = &options;
  size_t start = 0;
  for (;;) {
    size_t dot = dotted.find('.', start);
    std::string key = dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!v->IsObject()) return nullptr;
    v = json::find(*v, key.c_str());
    if (v == nullptr || dot == std::string::npos) return v;
    start = dot + 1;
  }
}

TEST(RewardOptions, EveryBuiltinListsItsOptionsAndTheirDefaultsRoundTrip) {
  const std::vector<RewardInfo> infos = builtin_rewards();
  ASSERT_GE(infos.size(), 12u);
  for (const RewardInfo& info : infos) {
    SCOPED_TRACE(info.name);
    ASSERT_FALSE(info.options.empty()) << "a built-in reward without an options struct";
    const json::Document normal = normalize_text(spec_of(info.name, required_options(info.name)));
    const json::Value& options = json::get(normal, "options", "normal");
    // Every listed option is written, with the listed default (required keys aside), and nothing else: the
    // top-level keys are the listed ones ("math.answer_key" is under "math"), in the listed order.
    std::vector<std::string> listed_keys, written_keys;
    for (const ConfigField& f : info.options) {
      const json::Value* v = option_in(options, f.key);
      ASSERT_NE(v, nullptr) << f.key;
      json::Document listed = json::parse(f.default_json, f.key);
      if (required_options(info.name).find("\"" + f.key + "\"") == std::string::npos) {
        if (v->IsNumber() && listed.IsNumber()) {  // listings write 250 for the 250.0 of the JSON
          EXPECT_EQ(v->GetDouble(), listed.GetDouble()) << f.key;
        } else {
          EXPECT_EQ(json::dump(*v), json::dump(listed)) << f.key;
        }
      }
      EXPECT_FALSE(f.type.empty()) << f.key;
      EXPECT_FALSE(f.help.empty()) << f.key;
      const std::string top = f.key.substr(0, f.key.find('.'));
      if (listed_keys.empty() || listed_keys.back() != top) listed_keys.push_back(top);
    }
    for (auto it = options.MemberBegin(); it != options.MemberEnd(); ++it) written_keys.push_back(it->name.GetString());
    EXPECT_EQ(written_keys, listed_keys);
    // Defaults written are defaults read: normalising the normal form changes nothing.
    EXPECT_EQ(json::dump(Registry::global().normalize(normal, "again")), json::dump(normal));
    // The help text of `r1 reward list` comes from the same list.
    EXPECT_EQ(info.options_help, options_help_text(info.options));
  }
}

TEST(RewardOptions, NonDefaultValuesRoundTrip) {
  const std::string math = R"({"answer_key": "gold", "fallback": false, "answer_tags": false, "after_think": false,
      "require_answer_tags": true, "percent": "ignore", "float_places": 3, "timeout_ms": 50, "score_correct": 2,
      "score_wrong": -1, "score_no_answer": -2})";
  const json::Document normal = normalize_text(spec_of("math", math));
  EXPECT_EQ(json::dump(normal),
            R"({"name":"math","options":{"answer_key":"gold","fallback":false,"answer_tags":false,"after_think":false,)"
            R"("require_answer_tags":true,"percent":"ignore","float_places":3,"timeout_ms":50.0,"score_correct":2.0,)"
            R"("score_wrong":-1.0,"score_no_answer":-2.0}})");
  const json::Document cosine = normalize_text(spec_of("cosine_length", R"({"unit": "words", "math": {"percent": "fraction"}})"));
  EXPECT_EQ(json::dump(*option_in(json::get(cosine, "options", "c"), "math.percent")), "\"fraction\"");
  EXPECT_EQ(json::dump(*option_in(json::get(cosine, "options", "c"), "unit")), "\"words\"");
  const json::Document external = normalize_text(spec_of("external", R"({"command": "run me", "on_error": "score"})"));
  EXPECT_EQ(json::dump(*option_in(json::get(external, "options", "e"), "command")), R"(["run me"])");
  EXPECT_EQ(json::dump(*option_in(json::get(external, "options", "e"), "on_error")), "\"score\"");
  const json::Document plugin = normalize_text(
      spec_of("plugin", std::string(R"({"library": ")") + R1_EXAMPLE_PLUGIN + R"(", "options": {"keyword": "cat"}})"));
  EXPECT_EQ(json::dump(*option_in(json::get(plugin, "options", "p"), "options")), R"({"keyword":"cat"})");
}

// A wrong-typed value for an option of the listed type (json options accept anything: none).
std::optional<std::string> wrong_value(const std::string& type) {
  if (type == "bool") return "\"yes\"";
  if (type == "int" || type == "number") return "\"3\"";
  if (type == "string" || type == "strings") return "[1]";
  if (type == "ints") return "[\"x\"]";
  if (type == "json") return std::nullopt;
  return "7";  // an enumeration (a name is expected) or an object
}

// {"a": {"b": value}} for the dotted key "a.b".
std::string nested_object(const std::string& dotted, const std::string& value) {
  size_t dot = dotted.find('.');
  if (dot == std::string::npos) return "{\"" + dotted + "\": " + value + "}";
  return "{\"" + dotted.substr(0, dot) + "\": " + nested_object(dotted.substr(dot + 1), value) + "}";
}

TEST(RewardOptions, WrongTypesAndUnknownOptionsNameThePlaceTheRewardAndTheOption) {
  for (const RewardInfo& info : builtin_rewards()) {
    SCOPED_TRACE(info.name);
    const std::string spec = R"({"composite": [{"name": "math"}, )" + spec_of(info.name, R"({"fallbak": true})") + "]}";
    const std::string unknown = error_of([&] { normalize_text(spec); });
    EXPECT_NE(unknown.find("test.composite[1]: reward '" + info.name + "': unknown option 'fallbak' (accepted: "),
              std::string::npos)
        << unknown;
    for (const ConfigField& f : info.options) {
      std::optional<std::string> bad = wrong_value(f.type);
      if (!bad) continue;
      const std::string message = error_of([&] { Registry::global().make_from_spec(spec_of(info.name, nested_object(f.key, *bad)), "test"); });
      std::string option_path;  // "option 'math': option 'percent'"
      size_t start = 0;
      for (size_t dot; (dot = f.key.find('.', start)) != std::string::npos; start = dot + 1)
        option_path += "option '" + f.key.substr(start, dot - start) + "': ";
      option_path += "option '" + f.key.substr(start) + "': expected";
      EXPECT_NE(message.find("test: reward '" + info.name + "': " + option_path), std::string::npos)
          << f.key << " (" << f.type << "): " << message;
    }
  }
}

TEST(RewardOptions, RangesAndChoicesAreCheckedWithTheAllowedValues) {
  struct Case {
    std::string reward, options, expect;
  };
  const std::vector<Case> cases = {
      {"math", R"({"float_places": 16})", "reward 'math': option 'float_places' must be in [0, 15], got 16"},
      {"math", R"({"float_places": -1})", "option 'float_places' must be in [0, 15], got -1"},
      {"math", R"({"timeout_ms": 0})", "option 'timeout_ms' must be positive"},
      {"math", R"({"percent": "half"})", "option 'percent': 'half' is not one of flexible | fraction | ignore"},
      {"math", R"({"float_places": 2.5})", "option 'float_places': expected an integer, got 2.5"},
      {"format", R"({"style": "r2"})", "option 'style': 'r2' is not one of r1_zero | r1"},
      {"language", R"({"scope": "cot"})", "option 'scope': 'cot' is not one of think | all"},
      {"language", R"({"default_lang": "klingon"})", "option 'default_lang': unknown language code 'klingon'"},
      {"overlong", R"({"max_length": 10, "cache_length": 10})", "need 0 < cache_length < max_length"},
      {"overlong", R"({"unit": "bytes"})", "'bytes' is not one of tokens | chars | words"},
      {"cosine_length", R"({"max_length": 0})", "option 'max_length' must be positive"},
      {"cosine_length", R"({"math": {"float_places": 99}})",
       "reward 'cosine_length': option 'math': option 'float_places' must be in [0, 15], got 99"},
      {"cosine_length", R"({"math": {"fallbak": true}})", "reward 'cosine_length': option 'math': unknown option 'fallbak'"},
      {"repetition", R"({"ngram_size": 0})", "option 'ngram_size' must be in [1, 64], got 0"},
      {"repetition", R"({"max_penalty": 1})", "option 'max_penalty' must be <= 0"},
      {"reasoning_steps", R"({"min_steps": 0})", "option 'min_steps' must be positive"},
      {"external", R"({})", "reward 'external': option 'command' is required"},
      {"external", R"({"command": "x", "processes": 0})", "option 'processes' must be in [1, 256], got 0"},
      {"external", R"({"command": "x", "timeout_ms": -1})", "option 'timeout_ms' must be positive"},
      {"external", R"({"command": "x", "max_restarts": -1})", "option 'max_restarts' must be >= 0"},
      {"external", R"({"command": "x", "processes": 4294967297})", "option 'processes': 4294967297 is out of range"},
      {"external", R"({"command": "x", "on_error": "ignore"})", "'ignore' is not one of raise | score"},
      {"plugin", R"({})", "reward 'plugin': option 'library' (path of the plugin .so) is required"},
      {"plugin", R"({"library": "/no/such.so"})", "option 'library': no such file '/no/such.so'"},
      {"code", R"({"timeout_s": 0})", "option 'timeout_s' must be in (0, 3600], got 0"},
      {"code", R"({"language": "cobol"})", "option 'language': unknown language 'cobol'"},
      {"code", R"({"score": "half"})", "'half' is not one of fraction | binary"},
      {"code", R"({"language": "cpp", "format": "humaneval"})", "format 'humaneval' runs Python asserts"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.reward + " " + c.options);
    const std::string spec = spec_of(c.reward, c.options);
    // The same message from building, from validating, and from normalising.
    const std::string built = error_of([&] { testing::make(spec); });
    EXPECT_NE(built.find(c.expect), std::string::npos) << built;
    EXPECT_NE(built.find("test: reward '" + c.reward + "'"), std::string::npos) << built;
    json::Document parsed = json::parse(spec, "spec");
    EXPECT_EQ(error_of([&] { Registry::global().validate(parsed, "test"); }), built);
    EXPECT_EQ(error_of([&] { Registry::global().normalize(parsed, "test"); }), built);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The walker and the builder.

using Part = std::tuple<std::string, std::string, std::string>;  // name, options, where

// A registry of rewards "a", "b", "c" that record what their factory was given.
struct Recording {
  Registry registry;
  std::vector<Part> built;
  Recording() {
    for (const char* name : {"a", "b", "c"}) {
      std::string n = name;
      registry.add({n, "records its options", "free-form"}, [this, n](const json::Value& options, const std::string& where) {
        built.emplace_back(n, json::dump(options), where);
        class Constant : public Reward {
         public:
          explicit Constant(std::string n) : n_(std::move(n)) {}
          std::string name() const override { return n_; }
          Score score(const Sample&) const override { return Score{1.0, {}, ""}; }

         private:
          std::string n_;
        };
        return std::make_shared<Constant>(n);
      });
    }
  }
};

std::vector<Part> walked(const std::string& spec_text) {
  std::vector<Part> out;
  // A spec given as text (the CLI) and as a JSON string value (a recipe's "reward": "a,b") walk alike.
  json::Document spec;
  spec.SetString(spec_text.c_str(), static_cast<rapidjson::SizeType>(spec_text.size()), spec.GetAllocator());
  Registry::walk(spec, "t", [&](const std::string& name, const json::Value& options, const std::string& where) {
    out.emplace_back(name, json::dump(options), where);
  });
  return out;
}

TEST(RewardSpecWalk, SeesThePartsTheBuilderBuildsInEveryForm) {
  const std::vector<std::pair<std::string, std::vector<Part>>> forms = {
      {"a", {{"a", "{}", "t: reward 'a'"}}},
      {" a , b ", {{"a", "{}", "t: reward 'a'"}, {"b", "{}", "t: reward 'b'"}}},
      {R"({"name": "a", "options": {"k": 1}})", {{"a", R"({"k":1})", "t: reward 'a'"}}},
      {R"({"name": "a", "weight": 2, "label": "x"})", {{"a", "{}", "t: reward 'a'"}}},
      {R"(["a", {"name": "b", "options": {"k": [1]}}])",
       {{"a", "{}", "t[0]: reward 'a'"}, {"b", R"({"k":[1]})", "t[1]: reward 'b'"}}},
      {R"({"composite": [{"name": "a", "weight": 0.5}, {"composite": ["b", "c,a"], "label": "inner"}]})",
       {{"a", "{}", "t.composite[0]: reward 'a'"},
        {"b", "{}", "t.composite[1].composite[0]: reward 'b'"},
        {"c", "{}", "t.composite[1].composite[1]: reward 'c'"},
        {"a", "{}", "t.composite[1].composite[1]: reward 'a'"}}},
      {R"([ /* a comment */ "{\"name\": \"c\", \"options\": {\"z\": null}}"])",
       {{"c", R"({"z":null})", "t[0]: reward 'c'"}}},
  };
  for (const auto& [spec, expected] : forms) {
    SCOPED_TRACE(spec);
    Recording rec;
    rec.registry.make_from_spec(spec, "t");
    EXPECT_EQ(rec.built, expected);
    EXPECT_EQ(walked(spec), expected);
  }
}

TEST(RewardSpecWalk, MalformedSpecsAreLocatedErrorsNotSkipped) {
  auto walk_error = [](const std::string& text) {
    return error_of([&] {
      json::Document spec = json::parse(text, "recipe.json");
      Registry::walk(spec, "recipe.json: reward", [](const std::string&, const json::Value&, const std::string&) {});
    });
  };
  EXPECT_NE(walk_error(R"("[\"math\", ")").find("recipe.json: reward:1:"), std::string::npos);  // JSON text in a string
  EXPECT_NE(walk_error(R"({"composite": [{"name": "math", "wieght": 1}]})")
                .find("recipe.json: reward.composite[0]: unknown key 'wieght'"),
            std::string::npos);
  EXPECT_NE(walk_error(R"({"name": "math", "composite": ["format"]})").find("either 'name'"), std::string::npos);
  EXPECT_NE(walk_error(R"({"name": "math", "options": [1]})").find("key 'options': expected an object of options, got array"),
            std::string::npos);
  EXPECT_NE(walk_error(R"([1])").find("recipe.json: reward[0]: expected a reward name or object, got number"),
            std::string::npos);
  EXPECT_NE(walk_error(R"({"name": "math", "weight": "1"})").find("key 'weight': expected a number, got string"),
            std::string::npos);
  EXPECT_NE(walk_error(R"({"name": "math", "label": 1})").find("key 'label': expected a string, got number"),
            std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------
// validate() builds nothing.

TEST(RewardValidate, StartsNoProcessAndLoadsNoLibrary) {
  const std::string marker = ::testing::TempDir() + "/r1_validate_marker_" + std::to_string(getpid());
  std::remove(marker.c_str());
  const std::string spec = R"({"composite": ["math", {"name": "external", "options": {"command": "touch )" + marker +
                           R"(; exit 1", "max_restarts": 0}}]})";
  json::Document parsed = json::parse(spec, "spec");
  Registry::global().validate(parsed, "test");
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "validate() started the external command";
  // The command does create the marker when the reward is built and scores: the check above can fail.
  RewardPtr built = Registry::global().make_from_json(parsed, "test");
  EXPECT_NE(access(marker.c_str(), F_OK), 0) << "building must not start the command either (started on first use)";
  EXPECT_THROW(score_with(built, "<answer>1</answer>", R"({"answer": "1"})"), Error);
  EXPECT_EQ(access(marker.c_str(), F_OK), 0) << "the external command never ran";
  std::remove(marker.c_str());

  // A file that is not a plugin: validate() checks the keys and that the file exists, building dlopens it.
  json::Document not_a_plugin = json::parse(R"({"name": "plugin", "options": {"library": "/bin/sh"}})", "spec");
  EXPECT_NO_THROW(Registry::global().validate(not_a_plugin, "test"));
  EXPECT_THROW(Registry::global().make_from_json(not_a_plugin, "test"), Error);
}

TEST(RewardValidate, NamesUnknownRewardsAndFreeFormOptionsPassThrough) {
  json::Document unknown = json::parse(R"(["math", {"name": "nosuch"}])", "spec");
  EXPECT_NE(error_of([&] { Registry::global().validate(unknown, "recipe.json: reward"); })
                .find("recipe.json: reward[1]: unknown reward 'nosuch' (known: "),
            std::string::npos);
  Recording rec;
  json::Document free_form = json::parse(R"({"name": "a", "options": {"anything": [1, {"x": 2}]}})", "spec");
  rec.registry.validate(free_form, "t");
  EXPECT_TRUE(rec.built.empty());
  EXPECT_EQ(json::dump(rec.registry.normalize(free_form, "t")), R"({"name":"a","options":{"anything":[1,{"x":2}]}})");
}

// ---------------------------------------------------------------------------------------------------------
// normalize().

TEST(RewardNormalize, NormalFormOfEverySpecForm) {
  Recording rec;
  auto normal = [&](const std::string& text) {
    json::Document spec;
    spec.SetString(text.c_str(), static_cast<rapidjson::SizeType>(text.size()), spec.GetAllocator());
    return json::dump(rec.registry.normalize(spec, "t"));
  };
  EXPECT_EQ(normal("a"), R"({"name":"a","options":{}})");
  EXPECT_EQ(normal("a, b"), R"({"composite":[{"name":"a","weight":1.0,"options":{}},{"name":"b","weight":1.0,"options":{}}]})");
  EXPECT_EQ(normal(R"({"name": "a", "weight": 2, "label": "acc", "options": {"k": 1}})"),
            R"({"composite":[{"name":"a","weight":2.0,"label":"acc","options":{"k":1}}]})");
  EXPECT_EQ(normal(R"(["a", {"name": "b", "label": "b"}, "b,c"])"),
            R"({"composite":[{"name":"a","weight":1.0,"options":{}},{"name":"b","weight":1.0,"options":{}},)"
            R"({"composite":[{"name":"b","weight":1.0,"options":{}},{"name":"c","weight":1.0,"options":{}}],)"
            R"("weight":1.0,"label":"b,c"}]})");
  EXPECT_EQ(normal(R"({"composite": [{"composite": ["a"], "weight": 0.5}]})"),
            R"({"composite":[{"composite":[{"name":"a","weight":1.0,"options":{}}],"weight":0.5}]})");
}

TEST(RewardNormalize, IsIdempotentAndBuildsTheSameReward) {
  const std::vector<std::string> specs = {
      "math",
      "math, format",
      "format,format",
      R"({"name": "math", "options": {"answer_key": "gold", "percent": "fraction"}})",
      R"({"name": "math", "weight": 2, "label": "acc"})",
      R"({"name": "format", "label": "format"})",
      R"(["math", {"name": "format", "weight": 0.5, "options": {"partial_credit": true}}, "repetition,overlong"])",
      R"({"composite": [{"name": "accuracy"}, {"composite": ["format", {"name": "cosine_length",
          "options": {"unit": "chars", "math": {"answer_key": "gold"}}}], "weight": 0.25, "label": "shape"}]})",
  };
  const std::vector<std::pair<std::string, std::string>> samples = {
      {"<think>2+2 is 4</think> <answer>4</answer>", R"({"answer": "4", "gold": "4"})"},
      {"<think>so so so so so so</think> <answer>5</answer>", R"({"answer": "4", "gold": "5"})"},
      {"The answer is \\boxed{50\\%}.", R"({"answer": "0.5", "gold": "50"})"},
  };
  for (const std::string& text : specs) {
    SCOPED_TRACE(text);
    const json::Document spec = json::parse(text[0] == '{' || text[0] == '[' ? text : "\"" + text + "\"", "spec");
    const json::Document normal = Registry::global().normalize(spec, "t");
    EXPECT_EQ(json::dump(Registry::global().normalize(normal, "t")), json::dump(normal));
    const RewardPtr original = Registry::global().make_from_json(spec, "t");
    const RewardPtr rebuilt = Registry::global().make_from_json(normal, "t");
    EXPECT_EQ(original->name(), rebuilt->name());
    for (const auto& [completion, row] : samples) {
      const Score a = score_with(original, completion, row, "", 40).score;
      const Score b = score_with(rebuilt, completion, row, "", 40).score;
      EXPECT_EQ(a.value, b.value) << completion;
      EXPECT_EQ(a.components, b.components) << completion;
      EXPECT_EQ(a.reason, b.reason) << completion;
    }
  }
}

}  // namespace
}  // namespace r1::rewards
