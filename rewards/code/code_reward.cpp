// The "code" reward (see code_reward.h): plan the sandbox runs of a sample (extract the code, read the
// row's tests, build one request per test unit), run every plan of a batch on the sandbox pool at once,
// then judge each run (harness proof or output comparison) and turn the verdicts into a Score.
#include "rewards/code/code_reward.h"

#include <chrono>
#include <cmath>
#include <future>
#include <memory>

#include "common/error.h"
#include "common/jsonl.h"
#include "rewards/code/code_compare.h"
#include "rewards/code/code_extract.h"
#include "rewards/code/code_harness.h"
#include "rewards/options.h"
#include "sandbox/languages.h"
#include "sandbox/pool.h"

namespace r1::rewards {

namespace {

constexpr const char* kReward = "code";

// One sandbox request and what it proves.
struct Unit {
  sandbox::Request request;
  std::string secret;                     // harness units: the proof's secret
  std::vector<std::string> expected;      // stdio units: expected stdout of each input
  size_t tests = 1;                       // test count this unit stands for
};

struct Plan {
  bool has_code = false;
  std::string why;  // when !has_code
  std::vector<Unit> units;
  size_t tests = 0;
};

sandbox::Limits test_limits(const CodeRewardOptions& o) {
  sandbox::Limits l;
  l.wall_time_s = o.timeout_s;
  l.cpu_time_s = o.timeout_s;
  l.memory_bytes = static_cast<int64_t>(o.memory_mb * (1 << 20));
  return l;
}

std::string field_where(const std::string& key) { return std::string("reward '") + kReward + "': field '" + key + "'"; }

std::string row_string(const Sample& s, const std::string& key) {
  const json::Value* v = row_field(s, key);
  R1_CHECK(v != nullptr, field_where(key), " is missing");
  R1_CHECK(v->IsString(), field_where(key), " must be a string, got ", json::type_name(*v));
  return std::string(v->GetString(), v->GetStringLength());
}

std::vector<std::string> row_strings(const json::Value& v, const std::string& key) {
  R1_CHECK(v.IsArray(), field_where(key), " must be an array, got ", json::type_name(v));
  std::vector<std::string> out;
  for (const auto& item : v.GetArray()) {
    if (item.IsString()) {
      out.emplace_back(item.GetString(), item.GetStringLength());
    } else if (item.IsArray()) {  // an output given as its lines
      std::string joined;
      for (const auto& line : item.GetArray()) {
        R1_CHECK(line.IsString(), field_where(key), ": lines must be strings");
        joined += std::string(line.GetString(), line.GetStringLength()) + "\n";
      }
      out.push_back(std::move(joined));
    } else {
      fail(field_where(key), ": items must be strings, got ", json::type_name(item));
    }
  }
  return out;
}

std::string detect_format(const Sample& s) {
  if (row_field(s, "entry_point") != nullptr && row_field(s, "test") != nullptr) return "humaneval";
  if (row_field(s, "test_list") != nullptr) return "mbpp";
  if (row_field(s, "tests") != nullptr || row_field(s, "input_output") != nullptr || row_field(s, "inputs") != nullptr) {
    return "stdio";
  }
  fail("reward 'code': the row has no tests (expected 'test' + 'entry_point', 'test_list', 'tests', 'inputs' + "
       "'outputs' or 'input_output')");
}

void read_stdio_tests(const Sample& s, std::vector<std::string>* inputs, std::vector<std::string>* outputs) {
  if (const json::Value* tests = row_field(s, "tests")) {
    R1_CHECK(tests->IsArray(), field_where("tests"), " must be an array of {\"input\", \"output\"}");
    for (const auto& t : tests->GetArray()) {
      R1_CHECK(t.IsObject(), field_where("tests"), ": each test must be an object");
      inputs->push_back(json::get_string(t, "input", field_where("tests")));
      outputs->push_back(json::get_string(t, "output", field_where("tests")));
    }
    return;
  }
  json::Document parsed;
  const json::Value* io = row_field(s, "input_output");
  const json::Value* holder = nullptr;
  if (io != nullptr) {
    if (io->IsString()) {
      parsed = json::parse(std::string_view(io->GetString(), io->GetStringLength()), field_where("input_output"));
      holder = &parsed;
    } else {
      holder = io;
    }
    R1_CHECK(holder->IsObject(), field_where("input_output"), " must be an object with inputs and outputs");
    R1_CHECK(json::find(*holder, "fn_name") == nullptr, field_where("input_output"),
             ": call-based tests (fn_name) are not supported; use stdin/stdout tests");
  }
  const json::Value* in = holder ? json::find(*holder, "inputs") : row_field(s, "inputs");
  const json::Value* out = holder ? json::find(*holder, "outputs") : row_field(s, "outputs");
  R1_CHECK(in != nullptr && out != nullptr, field_where(holder ? "input_output" : "inputs"), ": needs inputs and outputs");
  *inputs = row_strings(*in, "inputs");
  *outputs = row_strings(*out, "outputs");
  R1_CHECK(inputs->size() == outputs->size(), field_where("inputs"), ": ", inputs->size(), " inputs but ",
           outputs->size(), " outputs");
}

Plan plan_sample(const Sample& sample, const CodeRewardOptions& o) {
  Plan plan;
  std::string format = o.format == CodeFormat::Auto ? detect_format(sample) : enum_name(o.format);
  ExtractOptions eo;
  eo.language = o.language;
  eo.mode = enum_name(o.extract);
  eo.after_think = o.after_think;
  const std::optional<std::string> code = extract_code(sample.completion, eo, &plan.why);
  const sandbox::Limits limits = test_limits(o);

  if (format == "humaneval") {
    const std::string prompt = row_string(sample, "prompt");
    const std::string test = row_string(sample, "test");
    const std::string entry = row_string(sample, "entry_point");
    plan.tests = 1;
    if (!code) return plan;
    Unit u;
    u.secret = make_secret();
    u.request = harness_request({{"solution.py", prompt + *code}, {"test.py", test}, {"check.py", "check(" + entry + ")\n"}},
                                u.secret, limits);
    plan.units.push_back(std::move(u));
  } else if (format == "mbpp") {
    const json::Value* list = row_field(sample, "test_list");
    R1_CHECK(list != nullptr, field_where("test_list"), " is missing");
    std::vector<std::string> asserts = row_strings(*list, "test_list");
    if (o.challenge_tests) {
      if (const json::Value* extra = row_field(sample, "challenge_test_list")) {
        for (auto& t : row_strings(*extra, "challenge_test_list")) asserts.push_back(std::move(t));
      }
    }
    if (o.max_tests > 0 && asserts.size() > static_cast<size_t>(o.max_tests)) asserts.resize(o.max_tests);
    R1_CHECK(!asserts.empty(), field_where("test_list"), " is empty");
    const json::Value* setup_v = row_field(sample, "test_setup_code");
    const std::string setup = setup_v && setup_v->IsString() ? std::string(setup_v->GetString(), setup_v->GetStringLength()) : "";
    plan.tests = asserts.size();
    if (!code) return plan;
    // The code first: MBPP's only non-empty test_setup_code (tasks 367, 927) builds objects of a class the
    // solution defines.
    std::vector<Segment> base = {{"solution.py", *code}};
    if (!setup.empty()) base.push_back({"setup.py", setup});
    if (o.score == CodeScore::Binary) {  // one run, every assert a segment: all or nothing anyway
      std::vector<Segment> segs = base;
      for (size_t i = 0; i < asserts.size(); ++i) segs.push_back({"test_" + std::to_string(i + 1) + ".py", asserts[i] + "\n"});
      Unit u;
      u.secret = make_secret();
      u.request = harness_request(segs, u.secret, limits);
      u.tests = asserts.size();
      plan.units.push_back(std::move(u));
    } else {
      for (size_t i = 0; i < asserts.size(); ++i) {
        std::vector<Segment> segs = base;
        segs.push_back({"test_" + std::to_string(i + 1) + ".py", asserts[i] + "\n"});
        Unit u;
        u.secret = make_secret();
        u.request = harness_request(segs, u.secret, limits);
        plan.units.push_back(std::move(u));
      }
    }
  } else if (format == "stdio") {
    std::vector<std::string> inputs, outputs;
    read_stdio_tests(sample, &inputs, &outputs);
    if (o.max_tests > 0 && inputs.size() > static_cast<size_t>(o.max_tests)) {
      inputs.resize(o.max_tests);
      outputs.resize(o.max_tests);
    }
    R1_CHECK(!inputs.empty(), field_where("tests"), ": no test cases");
    plan.tests = inputs.size();
    if (!code) return plan;
    Unit u;
    u.request.language = o.language;
    u.request.source = *code;
    u.request.inputs = std::move(inputs);
    u.request.stop_on_failure = o.score == CodeScore::Binary;
    u.request.limits = limits;
    u.expected = std::move(outputs);
    u.tests = u.expected.size();
    plan.units.push_back(std::move(u));
  } else {
    fail("reward 'code': unknown format '", format, "'");
  }
  plan.has_code = true;
  return plan;
}

std::string last_line(const std::string& text) {
  size_t end = text.size();
  while (end > 0) {
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' || text[end - 1] == ' ')) --end;
    if (end == 0) break;
    const size_t start = text.rfind('\n', end - 1);
    std::string line = text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1));
    if (line.rfind("[r1 sandbox:", 0) != 0) return line.size() > 160 ? line.substr(0, 157) + "..." : line;
    end = start == std::string::npos ? 0 : start;
  }
  return {};
}

std::string describe(const sandbox::Execution& e) {
  std::string d = sandbox::status_name(e.status);
  if (e.status == sandbox::Status::ok) return "exited before the tests finished (no completion proof)";
  const std::string line = last_line(e.stderr_data);
  if (e.status == sandbox::Status::runtime_error && !line.empty()) return d + ": " + line;
  return d + (e.message.empty() ? "" : ": " + e.message);
}

std::string describe(const sandbox::Result& r) {
  if (r.status == sandbox::Status::compile_error && r.compile) {
    return "compile_error: " + last_line(r.compile->stderr_data);
  }
  if (r.status == sandbox::Status::sandbox_error || r.runs.empty()) return std::string("sandbox_error: ") + r.message;
  return describe(r.runs.front());
}

Score judge(const Plan& plan, const std::vector<sandbox::Result>& results, const CodeRewardOptions& o) {
  Score s;
  size_t passed = 0;
  std::string first_failure;
  if (plan.has_code) {
    size_t test_index = 0;
    for (size_t u = 0; u < plan.units.size(); ++u) {
      const Unit& unit = plan.units[u];
      const sandbox::Result& r = results[u];
      if (r.status == sandbox::Status::sandbox_error && r.runs.empty()) {
        fail("reward 'code': the sandbox failed: ", r.message);  // not the program's fault: never a silent 0
      }
      if (!unit.expected.empty()) {
        for (size_t i = 0; i < unit.expected.size(); ++i, ++test_index) {
          std::string why;
          if (i < r.runs.size() && r.runs[i].status == sandbox::Status::ok) {
            const OutputMatch m = compare_output(unit.expected[i], r.runs[i].stdout_data, o.float_tolerance);
            if (m.equal) {
              ++passed;
              continue;
            }
            why = "wrong answer: " + m.reason;
          } else if (i < r.runs.size()) {
            why = describe(r.runs[i]);
          } else {
            why = r.status == sandbox::Status::compile_error ? describe(r) : "not run";
          }
          if (first_failure.empty()) first_failure = "test " + std::to_string(test_index + 1) + ": " + why;
        }
      } else {
        if (harness_passed(r, unit.secret)) {
          passed += unit.tests;
        } else if (first_failure.empty()) {
          first_failure = (plan.units.size() > 1 ? "test " + std::to_string(test_index + 1) + ": " : std::string()) + describe(r);
        }
        test_index += unit.tests;
      }
    }
  }
  const double rate = plan.tests > 0 ? static_cast<double>(passed) / static_cast<double>(plan.tests) : 0.0;
  s.value = o.score == CodeScore::Binary ? (plan.tests > 0 && passed == plan.tests ? 1.0 : 0.0) : rate;
  // "correct" (every test passed) is the accuracy signal GRPO and evaluate report (rl/rollout.h correctness()).
  s.components = {{"correct", plan.tests > 0 && passed == plan.tests ? 1.0 : 0.0},
                  {"pass_rate", rate},
                  {"passed", static_cast<double>(passed)},
                  {"tests", static_cast<double>(plan.tests)},
                  {"extracted", plan.has_code ? 1.0 : 0.0}};
  if (!plan.has_code) {
    s.reason = plan.why;
  } else {
    s.reason = std::to_string(passed) + "/" + std::to_string(plan.tests) + " tests passed";
    if (!first_failure.empty()) s.reason += "; " + first_failure;
  }
  return s;
}

}  // namespace

const std::vector<std::pair<CodeFormat, const char*>>& enum_names(CodeFormat) {
  static const std::vector<std::pair<CodeFormat, const char*>> names = {
      {CodeFormat::Auto, "auto"}, {CodeFormat::HumanEval, "humaneval"}, {CodeFormat::Mbpp, "mbpp"}, {CodeFormat::Stdio, "stdio"}};
  return names;
}

const std::vector<std::pair<CodeExtract, const char*>>& enum_names(CodeExtract) {
  static const std::vector<std::pair<CodeExtract, const char*>> names = {
      {CodeExtract::Auto, "auto"}, {CodeExtract::Block, "block"}, {CodeExtract::Whole, "whole"}};
  return names;
}

const std::vector<std::pair<CodeScore, const char*>>& enum_names(CodeScore) {
  static const std::vector<std::pair<CodeScore, const char*>> names = {{CodeScore::Fraction, "fraction"},
                                                                        {CodeScore::Binary, "binary"}};
  return names;
}

void CodeRewardOptions::validate(const std::string& where) const {
  R1_CHECK(sandbox::find_language(language) != nullptr, where, ": option 'language': unknown language '", language,
           "' (known: ", sandbox::language_list(), ")");
  R1_CHECK(timeout_s > 0 && timeout_s <= 3600, where, ": option 'timeout_s' must be in (0, 3600], got ", timeout_s);
  R1_CHECK(memory_mb >= 16 && memory_mb <= 1 << 20, where, ": option 'memory_mb' must be in [16, 1048576], got ",
           memory_mb);
  R1_CHECK(float_tolerance >= 0, where, ": option 'float_tolerance' must be >= 0, got ", float_tolerance);
  R1_CHECK(max_tests >= 0, where, ": option 'max_tests' must be >= 0, got ", max_tests);
  const bool python = sandbox::find_language(language) == sandbox::find_language("python");
  R1_CHECK(python || format == CodeFormat::Auto || format == CodeFormat::Stdio, where, ": format '",
           enum_name(format), "' runs Python asserts; language '", language, "' needs format stdio");
}

CodeReward::CodeReward(CodeRewardOptions options, sandbox::Pool* pool) : options_(std::move(options)), pool_(pool) {}

Score CodeReward::score(const Sample& sample) const { return score_batch({sample}, nullptr).front(); }

std::vector<Score> CodeReward::score_batch(const std::vector<Sample>& samples, ThreadPool*) const {
  sandbox::Pool& pool = pool_ != nullptr ? *pool_ : sandbox::Pool::global();
  std::vector<Plan> plans;
  plans.reserve(samples.size());
  for (const Sample& s : samples) plans.push_back(plan_sample(s, options_));
  std::vector<std::vector<std::future<sandbox::Result>>> futures(plans.size());
  for (size_t i = 0; i < plans.size(); ++i) {
    for (const Unit& u : plans[i].units) futures[i].push_back(pool.submit(u.request));
  }
  std::vector<Score> scores;
  scores.reserve(plans.size());
  for (size_t i = 0; i < plans.size(); ++i) {
    std::vector<sandbox::Result> results;
    for (auto& f : futures[i]) results.push_back(f.get());
    scores.push_back(judge(plans[i], results, options_));
  }
  return scores;
}

void register_code_reward(Registry& registry) {
  add_reward_of<CodeReward, CodeRewardOptions>(registry, kReward,
      "runs the completion's code against the row's tests in the sandbox (HumanEval, MBPP, stdin/stdout)");
}

ReferenceReport check_reference_solutions(const std::string& jsonl_path, CodeRewardOptions options, size_t workers,
                                          size_t every) {
  R1_CHECK(options.format == CodeFormat::HumanEval || options.format == CodeFormat::Mbpp,
           "check_reference_solutions: format must be humaneval or mbpp, got '", enum_name(options.format), "'");
  const char* reference_key = options.format == CodeFormat::HumanEval ? "canonical_solution" : "code";
  std::vector<std::unique_ptr<json::Document>> rows;
  std::vector<Sample> samples;
  std::vector<std::string> ids;
  size_t index = 0;
  for_each_jsonl(jsonl_path, [&](size_t line, const json::Value& row) {
    if (index++ % std::max<size_t>(every, 1) != 0) return;
    auto doc = std::make_unique<json::Document>();
    doc->CopyFrom(row, doc->GetAllocator());
    const std::string where = jsonl_path + ":" + std::to_string(line);
    Sample s;
    s.completion = json::get_string(*doc, reference_key, where);
    const json::Value* id = json::find(*doc, "task_id");
    ids.push_back(id == nullptr ? where : id->IsString() ? id->GetString() : json::dump(*id));
    s.row = doc.get();
    samples.push_back(std::move(s));
    rows.push_back(std::move(doc));
  });
  options.extract = CodeExtract::Whole;  // references are bare code
  sandbox::Pool pool(workers);
  const CodeReward reward(options, &pool);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<Score> scores = reward.score_batch(samples, nullptr);
  ReferenceReport report;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (size_t i = 0; i < scores.size(); ++i) {
    ReferenceCheck c;
    c.id = ids[i];
    c.passed = scores[i].value == 1.0;
    c.reason = scores[i].reason;
    report.passed += c.passed;
    report.checks.push_back(std::move(c));
  }
  return report;
}

}  // namespace r1::rewards
