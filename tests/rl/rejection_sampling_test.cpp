// Tests of rejection sampling (rl/rejection.h, rl/stages/rejection_sampling.h):
//   * the model-free rules on crafted samples: R1's readable format, trivial prompts, keep modes (all, best,
//     first_k), the readability filters counted per filter, the quota cut, the counters' round trip, the mix
//     of kinds (counts, shares, exact ratio) and the seeded shuffle;
//   * recipe validation before stage 1 (errors naming the source and the key);
//   * `r1 run` end to end on a tiny random-init model: the stage writes chat JSONL with provenance in the
//     stated mix, quotas stop sources, and an sft stage of the same recipe trains on the output;
//   * kill -9 mid-stage and --resume: the same output as an uninterrupted run, no duplicate, no lost sample.
// A random-init model almost never closes its think block, so the end-to-end recipes switch off the
// `truncated` and `no_answer` filters (the rules themselves are tested on crafted samples).
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <set>
#include <thread>
#include <tuple>

#include "common/error.h"
#include "datasets/prompt_stream.h"
#include "error_of.h"
#include "rl/pipeline.h"
#include "rl/rejection.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace r1::rl::testing;
using r1::testing::error_of;

// ---------------------------------------------------------------------------------------------------------
// Readable format and trivial prompts.

TEST(RejectionRules, ReadableFormatFromR1ZeroAndR1Completions) {
  ReadableParts p = readable_parts("<think>\nadd 40 and 2\n</think>\n<answer> 42 </answer>", data::MissingThink::Cot, true);
  EXPECT_EQ(p.cot, "add 40 and 2");
  EXPECT_EQ(p.summary, "42");
  EXPECT_FALSE(p.unclosed);
  EXPECT_EQ(readable_text(p.cot, p.summary, NoCotFormat::EmptyThink), "<think>\nadd 40 and 2\n</think>\n\n42");
  // Tags kept when asked; a summary with more than the one block keeps them too.
  EXPECT_EQ(readable_parts("<think>x</think><answer>1</answer>", data::MissingThink::Cot, false).summary,
            "<answer>1</answer>");
  EXPECT_EQ(readable_parts("<think>x</think><answer>1</answer> and <answer>2</answer>", data::MissingThink::Cot, true)
                .summary,
            "<answer>1</answer> and <answer>2</answer>");
  // The prompt opened the block: a lone </think>.
  p = readable_parts(" first, 7 * 6 = 42 </think> The answer is 42.", data::MissingThink::Cot, true);
  EXPECT_EQ(p.cot, "first, 7 * 6 = 42");
  EXPECT_EQ(p.summary, "The answer is 42.");
  // Cut at the length limit.
  EXPECT_TRUE(readable_parts("<think> still thinking", data::MissingThink::Cot, true).unclosed);
  // No CoT: an empty think block (one output shape) or the response alone.
  EXPECT_EQ(readable_text("", "Hello!", NoCotFormat::EmptyThink), "<think>\n\n</think>\n\nHello!");
  EXPECT_EQ(readable_text("", "Hello!", NoCotFormat::Plain), "Hello!");
}

TEST(RejectionRules, TrivialPrompts) {
  EXPECT_TRUE(is_trivial_prompt("hello", 4, 16));
  EXPECT_TRUE(is_trivial_prompt("  Thanks a lot!  ", 4, 16));  // 3 words
  EXPECT_TRUE(is_trivial_prompt("你好", 4, 16));               // 2 words (one per Han character)
  EXPECT_FALSE(is_trivial_prompt("Explain why the sky is blue at noon", 4, 16));
  EXPECT_FALSE(is_trivial_prompt("请解释一下为什么天空是蓝色的", 4, 16));  // 14 words, 14 characters
  EXPECT_TRUE(is_trivial_prompt("What is x?", 4, 0));   // words only
  EXPECT_FALSE(is_trivial_prompt("What is x?", 0, 0));  // both off
  EXPECT_TRUE(is_trivial_prompt("a b c d e", 0, 16));   // characters only: 9 < 16
  EXPECT_FALSE(is_trivial_prompt("a b c d e", 4, 16));  // 5 words: both limits must hold
  EXPECT_EQ(prompt_words("one two  three\tfour\n"), 4u);
  EXPECT_EQ(code_points("héllo 你好"), 8u);
}

// ---------------------------------------------------------------------------------------------------------
// One prompt's samples → decisions.

Candidate cand(int64_t index, const std::string& cot, double reward, bool correct = true, bool truncated = false) {
  Candidate c;
  c.sample_index = index;
  c.cot = cot;
  c.summary = "The answer is 42.";
  c.text = readable_text(c.cot, c.summary, NoCotFormat::EmptyThink);
  c.reward = reward;
  c.correct = correct;
  c.truncated = truncated;
  return c;
}

// Six samples of one prompt: kept-worthy, wrong, a copy of the first, code in the CoT, another good one with
// a higher reward, and one cut at the length limit.
std::vector<Candidate> six_samples() {
  const std::string good = "First add forty and two carefully, then check the sum by subtracting two again.";
  return {cand(0, good, 1.0),
          cand(1, "Guess something without checking anything at all here.", 0.0, /*correct=*/false),
          cand(2, good, 1.0),
          cand(3, "Let me compute it with a program:\n```python\nprint(40 + 2)\n```\nThe program prints the sum.", 1.0),
          cand(4, "Two more than forty is forty-two; subtracting two gives forty back, so it checks.", 2.0),
          cand(5, "Adding the two numbers now gives a value that is clearly correct for this.", 1.0, true,
               /*truncated=*/true)};
}

std::vector<Outcome> outcomes(const std::vector<Decision>& d) {
  std::vector<Outcome> out;
  for (const auto& x : d) out.push_back(x.outcome);
  return out;
}

TEST(RejectionRules, KeepAllDropsWrongFilteredAndDuplicateSamplesAndCountsEachFilter) {
  data::ReadabilityFilter filter{data::FilterOptions()};
  const auto samples = six_samples();
  const auto d = decide_prompt(samples, KeepMode::All, 1, -1, filter, "What is 40 + 2?", "", "p1");
  using O = Outcome;
  EXPECT_EQ(outcomes(d), (std::vector<O>{O::Kept, O::NotCorrect, O::Filtered, O::Filtered, O::Kept, O::Filtered}));
  EXPECT_EQ(data::filter_names(d[2].failed), std::vector<std::string>{"duplicate"});
  EXPECT_EQ(data::filter_names(d[3].failed), std::vector<std::string>{"code_block"});
  EXPECT_EQ(data::filter_names(d[5].failed), std::vector<std::string>{"truncated"});

  SourceStats stats;
  for (size_t i = 0; i < samples.size(); ++i) stats.count(samples[i], d[i]);
  EXPECT_EQ(stats.samples, 6);
  EXPECT_EQ(stats.correct, 5);
  EXPECT_EQ(stats.passed_filters, 2);
  EXPECT_EQ(stats.kept, 2);
  EXPECT_EQ(stats.dropped_not_correct, 1);
  EXPECT_EQ(stats.filters.dropped, 3u);
  EXPECT_EQ(stats.filters.dropped_by[static_cast<size_t>(data::Filter::Duplicate)], 1u);
  EXPECT_EQ(stats.filters.dropped_by[static_cast<size_t>(data::Filter::CodeBlock)], 1u);
  EXPECT_EQ(stats.filters.dropped_by[static_cast<size_t>(data::Filter::Truncated)], 1u);
  EXPECT_DOUBLE_EQ(stats.acceptance_rate(), 2.0 / 6.0);
  EXPECT_EQ(stats.cot_kept, 2);
  EXPECT_DOUBLE_EQ(stats.cot_chars_sum, static_cast<double>(samples[0].cot.size() + samples[4].cot.size()));

  // The counters survive the progress file.
  const json::Document j = stats.to_json();
  const SourceStats back = SourceStats::from_json(j, "test");
  EXPECT_EQ(json::dump(back.to_json()), json::dump(j));
  EXPECT_EQ(j["dropped_by_filter"]["code_block"].GetInt64(), 1);
  EXPECT_EQ(j["dropped_by_filter"]["mixed_language"].GetInt64(), 0);
}

TEST(RejectionRules, KeepBestFirstKAndTheQuota) {
  using O = Outcome;
  const auto samples = six_samples();
  {  // best: the highest reward; the copy of sample 0 is not a duplicate of anything kept, just not the best
    data::ReadabilityFilter filter{data::FilterOptions()};
    const auto d = decide_prompt(samples, KeepMode::Best, 1, -1, filter, "What is 40 + 2?", "", "p");
    EXPECT_EQ(outcomes(d), (std::vector<O>{O::KeepMode, O::NotCorrect, O::KeepMode, O::Filtered, O::Kept, O::Filtered}));
  }
  {  // first_k, k = 1: the first correct one; its copy is a duplicate, the later good one is over k
    data::ReadabilityFilter filter{data::FilterOptions()};
    const auto d = decide_prompt(samples, KeepMode::FirstK, 1, -1, filter, "What is 40 + 2?", "", "p");
    EXPECT_EQ(outcomes(d), (std::vector<O>{O::Kept, O::NotCorrect, O::Filtered, O::Filtered, O::KeepMode, O::Filtered}));
  }
  {  // first_k, k = 2: both distinct good ones
    data::ReadabilityFilter filter{data::FilterOptions()};
    const auto d = decide_prompt(samples, KeepMode::FirstK, 2, -1, filter, "What is 40 + 2?", "", "p");
    EXPECT_EQ(outcomes(d), (std::vector<O>{O::Kept, O::NotCorrect, O::Filtered, O::Filtered, O::Kept, O::Filtered}));
  }
  {  // all, but room for one sample: the quota cuts the second in sample order
    data::ReadabilityFilter filter{data::FilterOptions()};
    const auto d = decide_prompt(samples, KeepMode::All, 1, 1, filter, "What is 40 + 2?", "", "p");
    EXPECT_EQ(outcomes(d), (std::vector<O>{O::Kept, O::NotCorrect, O::Filtered, O::Filtered, O::Quota, O::Filtered}));
    SourceStats stats;
    for (size_t i = 0; i < samples.size(); ++i) stats.count(samples[i], d[i]);
    EXPECT_EQ(stats.dropped_quota, 1);
    EXPECT_EQ(stats.kept, 1);
  }
  {  // duplicates are per prompt: after forget_group, the same text is new again
    data::ReadabilityFilter filter{data::FilterOptions()};
    decide_prompt({samples[0]}, KeepMode::All, 1, -1, filter, "q", "", "p");
    EXPECT_EQ(outcomes(decide_prompt({samples[0]}, KeepMode::All, 1, -1, filter, "q", "", "p")),
              std::vector<O>{O::Filtered});
    EXPECT_EQ(outcomes(decide_prompt({samples[0]}, KeepMode::All, 1, -1, filter, "q", "", "other")),
              std::vector<O>{O::Kept});
    filter.forget_group("p");
    EXPECT_EQ(outcomes(decide_prompt({samples[0]}, KeepMode::All, 1, -1, filter, "q", "", "p")),
              std::vector<O>{O::Kept});
  }
}

TEST(RejectionRules, FirstKKeepsDistinctSamplesEvenWithTheDuplicateFilterOff) {
  // "first k distinct" is the keep mode's own rule: with `duplicate` switched off, an exact copy of a sample it
  // keeps is passed over (keep_mode), not kept a second time.
  using O = Outcome;
  data::FilterOptions options;
  options.duplicate.enabled = false;
  data::ReadabilityFilter filter{options};
  const auto d = decide_prompt(six_samples(), KeepMode::FirstK, 2, -1, filter, "What is 40 + 2?", "", "p");
  EXPECT_EQ(outcomes(d), (std::vector<O>{O::Kept, O::NotCorrect, O::KeepMode, O::Filtered, O::Kept, O::Filtered}));
  EXPECT_TRUE(d[2].failed.empty());  // not counted as a filter drop: the filter is off
}

// ---------------------------------------------------------------------------------------------------------
// Streamed prompts.

TEST(PromptStream, ReadsWhatTheLoaderReadsAndContinuesAtASavedPosition) {
  const std::string dir = scratch_dir();
  const std::string path = dir + "/p.jsonl";
  // Blank lines, CRLF, a bad line (skipped and counted), no newline at the end.
  write_text(path, "{\"prompt\": \"a\", \"answer\": 1}\n\n{\"question\": \"b\", \"answer\": \"2\"}\r\nnot json\n"
                   "{\"prompt\": \"c\", \"id\": 7}\n{\"prompt\": \"d\"}");
  data::PromptDatasetSpec spec;
  spec.path = path;
  spec.skip_bad_lines = true;
  const auto all = data::load_prompt_dataset(spec);
  ASSERT_EQ(all.size(), 4u);
  data::PromptStream s(spec);
  std::vector<data::PromptExample> got;
  got.push_back(*s.next());
  got.push_back(*s.next());
  const data::PromptStream::Position mid = s.position();
  EXPECT_EQ(mid.examples, 2u);
  EXPECT_EQ(mid.line, 3u);
  data::PromptStream rest(spec, mid);  // a new stream (a resumed run) at the saved position
  while (auto ex = rest.next()) got.push_back(std::move(*ex));
  EXPECT_EQ(rest.skipped_bad_lines(), 1u);
  ASSERT_EQ(got.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(got[i].question, all[i].question);
    EXPECT_EQ(got[i].origin, all[i].origin);
    EXPECT_EQ(json::dump(*got[i].row), json::dump(*all[i].row));
  }
  EXPECT_EQ(rest.position().examples, 4u);
  // limit counts examples across the saved position; a bad line without skip_bad_lines names file:line.
  spec.limit = 3;
  data::PromptStream limited(spec, mid);
  EXPECT_TRUE(limited.next().has_value());
  EXPECT_FALSE(limited.next().has_value());
  spec.limit = -1;
  spec.skip_bad_lines = false;
  data::PromptStream strict(spec, mid);
  EXPECT_NE(error_of([&] { strict.next(); }).find(path + ":4"), std::string::npos);
  cleanup_if_passed(dir);
}

TEST(PromptStream, RefusesASavedPositionPastTheEndOrInsideALine) {
  // A resume whose prompt file changed since the position was saved: an error naming the file, not a source
  // that silently ends (past the end) or a prompt read from the middle of a line.
  const std::string dir = scratch_dir();
  const std::string path = dir + "/p.jsonl";
  const std::string first = "{\"prompt\": \"a\"}\n";
  write_text(path, first + "{\"prompt\": \"b\"}");  // no newline at the end
  data::PromptDatasetSpec spec;
  spec.path = path;
  data::PromptStream::Position past;
  past.offset = 1000;
  past.line = past.examples = 40;
  const std::string err = error_of([&] { data::PromptStream s(spec, past); });
  EXPECT_NE(err.find(path), std::string::npos) << err;
  EXPECT_NE(err.find("shorter"), std::string::npos) << err;
  data::PromptStream::Position inside;
  inside.offset = 3;
  const std::string err2 = error_of([&] { data::PromptStream s(spec, inside); });
  EXPECT_NE(err2.find(path), std::string::npos) << err2;
  EXPECT_NE(err2.find("not the start of a line"), std::string::npos) << err2;
  // The saved positions a stream really reaches are accepted: a line start, and the end of a file without a
  // final newline.
  data::PromptStream whole(spec);
  ASSERT_TRUE(whole.next().has_value());
  data::PromptStream second(spec, whole.position());
  ASSERT_TRUE(second.next().has_value());
  EXPECT_EQ(second.position().offset, static_cast<uint64_t>(first.size() + 15));
  data::PromptStream at_end(spec, second.position());
  EXPECT_FALSE(at_end.next().has_value());
  cleanup_if_passed(dir);
}

// ---------------------------------------------------------------------------------------------------------
// Mixing.

TEST(RejectionRules, MixCountsSharesAndExactRatio) {
  using K = SourceKind;
  MixPlan counts = MixPlan::parse(R"({"reasoning": 600, "general": 200})", -1, "t");
  EXPECT_TRUE(counts.given);
  EXPECT_FALSE(counts.ratios);
  EXPECT_EQ(counts.collect_quota(K::Reasoning, -1), 600);
  EXPECT_EQ(counts.collect_quota(K::General, -1), 200);
  EXPECT_EQ(counts.final_counts({{K::Reasoning, 600}, {K::General, 200}}, -1, true),
            (std::map<K, int64_t>{{K::Reasoning, 600}, {K::General, 200}}));
  // General fell short: the reasoning side shrinks to keep 3:1 — or not, without exact_ratio.
  EXPECT_EQ(counts.final_counts({{K::Reasoning, 600}, {K::General, 100}}, -1, true),
            (std::map<K, int64_t>{{K::Reasoning, 300}, {K::General, 100}}));
  EXPECT_EQ(counts.final_counts({{K::Reasoning, 600}, {K::General, 100}}, -1, false),
            (std::map<K, int64_t>{{K::Reasoning, 600}, {K::General, 100}}));

  MixPlan shares = MixPlan::parse(R"({"reasoning": 0.75, "general": 0.25})", -1, "t");
  EXPECT_TRUE(shares.ratios);
  EXPECT_EQ(shares.collect_quota(K::Reasoning, -1), -1);
  EXPECT_EQ(shares.collect_quota(K::Reasoning, 8), 6);
  EXPECT_EQ(shares.final_counts({{K::Reasoning, 10}, {K::General, 2}}, -1, true),
            (std::map<K, int64_t>{{K::Reasoning, 6}, {K::General, 2}}));
  EXPECT_EQ(shares.final_counts({{K::Reasoning, 30}, {K::General, 30}}, 8, true),
            (std::map<K, int64_t>{{K::Reasoning, 6}, {K::General, 2}}));

  MixPlan none = MixPlan::parse("", -1, "t");
  EXPECT_FALSE(none.given);
  EXPECT_EQ(none.collect_quota(K::General, -1), -1);
  EXPECT_EQ(none.final_counts({{K::Reasoning, 5}}, -1, true), (std::map<K, int64_t>{{K::Reasoning, 5}}));

  EXPECT_NE(error_of([] { MixPlan::parse(R"({"reasoning": 0.5, "general": 0.3})", -1, "here"); })
                .find("here: mix: give counts"),
            std::string::npos);
  EXPECT_NE(error_of([] { MixPlan::parse(R"({"reasonin": 5})", -1, "here"); }).find("here: mix.reasonin: 'reasonin' is not one of reasoning | general"),
            std::string::npos);
  EXPECT_NE(error_of([] { MixPlan::parse(R"({"reasoning": 5, "general": 2})", 10, "here"); }).find("total applies"),
            std::string::npos);
  EXPECT_NE(error_of([] { MixPlan::parse(R"({"general": -1})", -1, "here"); }).find("expected a number > 0"),
            std::string::npos);
}

TEST(RejectionRules, SeededShuffleIsAPermutationFixedByTheSeed) {
  std::vector<int> a(50), b, c;
  for (int i = 0; i < 50; ++i) a[i] = i;
  b = a;
  c = a;
  seeded_shuffle(b, 7);
  seeded_shuffle(c, 7);
  EXPECT_EQ(b, c);
  EXPECT_NE(b, a);
  std::vector<int> d = a;
  seeded_shuffle(d, 8);
  EXPECT_NE(d, b);
  std::sort(b.begin(), b.end());
  EXPECT_EQ(b, a);
}

// ---------------------------------------------------------------------------------------------------------
// Recipes.

const char* kChatSpecials = R"(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"])";

// `n` arithmetic prompts with ids; `chat` rows: every third a trivial "hi" with a reference, the others a
// longer question with a reference.
void write_prompts(const std::string& path, int n, int offset = 0) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    const int a = offset + i;
    text += "{\"id\": \"q" + std::to_string(a) + "\", \"prompt\": \"What is " + std::to_string(a) + " + " +
            std::to_string(2 * a) + "?\", \"answer\": \"" + std::to_string(3 * a) + "\"}\n";
  }
  write_text(path, text);
}

void write_chat(const std::string& path, int n) {
  std::string text;
  for (int i = 0; i < n; ++i) {
    const std::string q = i % 3 == 0 ? "hi" : "Please describe item number " + std::to_string(i) + " in one line";
    text += "{\"prompt\": \"" + q + "\", \"response\": \"Reference answer " + std::to_string(i) + ".\"}\n";
  }
  write_text(path, text);
}

// A rejection_sampling stage on the tiny model with a chat template; `sources` and `extra` are JSON text.
std::string rs_stage(const std::string& name, const std::string& sources, const std::string& extra = "") {
  return R"({"name": ")" + name + R"(", "type": "rejection_sampling", "model": )" + tiny_model_json(kChatSpecials) +
         R"(,
    "source_defaults": {"prompt_template": "", "chat_template": "chatml", "samples_per_prompt": 3,
                        "reward": {"name": "repetition"}, "threshold": -100,
                        "sampling": {"max_new_tokens": 16}},
    "sources": )" + sources + R"(,
    "filters": {"truncated": {"enabled": false}, "no_answer": {"enabled": false}},
    "threads": 1, "reward_threads": 1)" + extra + "}";
}

std::string write_recipe(const std::string& dir, const std::string& stages, int seed = 3) {
  const std::string path = dir + "/recipe.json";
  write_text(path, "{\"seed\": " + std::to_string(seed) + ", \"stages\": " + stages + "}");
  return path;
}

TEST(RejectionSamplingStage, ErrorsBeforeStageOneNameTheSourceAndKey) {
  const std::string dir = scratch_dir();
  write_prompts(dir + "/p.jsonl", 3);
  const std::string p = dir + "/p.jsonl";
  struct Case {
    std::string sources, extra;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {R"([{"path": ")" + p + R"(", "kind": "reasonning"}])", "",
       {"stages[0] (rs): sources[0]: key 'kind': 'reasonning' is not one of reasoning | general"}},
      {R"([{"path": ")" + p + R"("}, {"path": ")" + p + R"(", "name": "b", "samples": 3}])", "",
       {"stages[0] (rs): sources[1]: unknown key 'samples'", "samples_per_prompt"}},
      {R"([{"path": ")" + p + R"(", "reward": null}])", "", {"sources[0] (p)", "a reasoning source needs a 'reward'"}},
      {R"([{"path": ")" + p + R"(", "keep": "first_k", "k": 0}])", "", {"sources[0] (p): k must be >= 1"}},
      {R"([{"path": ")" + p + R"("}, {"path": ")" + p + R"("}])", "", {"sources[1] (p): two sources are named 'p'"}},
      {R"([{"path": ")" + p + R"(", "kind": "general"}])", R"(, "mix": {"reasoning": 10})",
       {"sources[0] (p): kind 'general' has no quota in 'mix'"}},
      {R"([{"path": ")" + p + R"("}])", R"(, "mix": {"reasoning": 10, "general": 5})",
       {"stages[0] (rs): mix.general: no source has kind 'general'", "exact_ratio"}},
      {R"([{"path": ")" + p + R"(", "reward": {"name": "math", "options": {"answer_kee": "x"}}}])", "",
       {"sources[0] (p): reward", "answer_kee"}},
      {R"([{"path": ")" + p + R"(", "reference": "with_cot"}])", "", {"'reference' applies to general sources"}},
      {R"({"path": ")" + p + R"("})", "", {"'sources' must be a non-empty list"}},
      {R"([{"path": ")" + p + R"("}])", R"(, "no_cot_format": "none")",
       {"stages[0] (rs): key 'no_cot_format': 'none' is not one of empty_think | plain"}},
      {R"([{"path": ")" + p + R"(", "sampling": {"top_p": 0}}])", "", {"sources[0] (p): sampling: top_p must be in (0, 1]"}},
  };
  for (const auto& c : cases) {
    const std::string recipe = write_recipe(dir, "[" + rs_stage("rs", c.sources, c.extra) + "]");
    const std::string err = error_of([&] { resolve_recipe(recipe, {}); });
    ASSERT_FALSE(err.empty()) << c.sources << c.extra;
    for (const auto& e : c.expect) EXPECT_NE(err.find(e), std::string::npos) << "expected '" << e << "' in: " << err;
  }
  // A good recipe resolves every key of every source (defaults included, reward in normal form), and the
  // resolved recipe resolves to itself.
  const std::string recipe = write_recipe(dir, "[" + rs_stage("rs", R"([{"path": ")" + p + R"("}])") + "]");
  const std::string resolved = resolve_recipe(recipe, {});
  const json::Document doc = json::parse(resolved, "resolved");
  const json::Value& src = doc["stages"][0]["sources"][0];
  EXPECT_STREQ(src["name"].GetString(), "p");
  EXPECT_EQ(src["samples_per_prompt"].GetInt64(), 3);
  EXPECT_DOUBLE_EQ(src["sampling"]["temperature"].GetDouble(), 0.6);
  EXPECT_STREQ(src["keep"].GetString(), "all");
  EXPECT_STREQ(src["reward"]["name"].GetString(), "repetition");
  EXPECT_TRUE(src["reward"].HasMember("options"));
  write_text(dir + "/resolved.json", resolved);
  const std::string again = resolve_recipe(dir + "/resolved.json", {});
  EXPECT_EQ(again.substr(again.find("\"stages\"")), resolved.substr(resolved.find("\"stages\"")));
  // --help-stage lists the per-source keys with their defaults.
  const std::string help = stage_help("rejection_sampling");
  for (const char* key : {"source_defaults.kind", "source_defaults.keep (one of: all best first_k, default \"all\")",
                          "source_defaults.sampling.temperature (number, default 0.6)", "source_defaults.quota",
                          "source_defaults.reference (one of: keep with_cot", "source_defaults.trivial_below_words",
                          "mix (json", "filters.code_block.enabled", "shard_prompts"}) {
    EXPECT_NE(help.find(key), std::string::npos) << key;
  }
  cleanup_if_passed(dir);
}

std::vector<json::Document> read_lines(const std::string& path) { return read_jsonl(path); }

TEST(RejectionSamplingStage, EndToEndQuotasMixProvenanceAndSftTrainsOnTheOutput) {
  const std::string dir = scratch_dir();
  write_prompts(dir + "/math.jsonl", 10);
  write_prompts(dir + "/more_math.jsonl", 10, 100);
  write_chat(dir + "/chat.jsonl", 9);
  const std::string sources = R"([
      {"path": ")" + dir + R"(/math.jsonl", "quota": 4},
      {"path": ")" + dir + R"(/more_math.jsonl", "keep": "first_k", "k": 1},
      {"path": ")" + dir + R"(/chat.jsonl", "kind": "general", "reward": null}])";
  const std::string stages =
      "[" + rs_stage("rs", sources, R"(, "mix": {"reasoning": 6, "general": 3}, "batch_prompts": 4, "shard_prompts": 4)") +
      R"(, {"name": "sft", "type": "sft", "model": )" + tiny_model_json(kChatSpecials) +
      R"(, "data": "stage:rs/sft.jsonl", "chat_template": "chatml", "steps": 2, "batch_size": 3, "max_len": 96,
          "threads": 1, "save_every": 0, "save_every_minutes": 0}])";
  const std::string recipe = write_recipe(dir, stages);
  const std::string run = dir + "/run";
  RunResult r = run_r1({"run", recipe, "--output", run, "--quiet"}, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;

  const std::string rs = run + "/stages/rs";
  const auto lines = read_lines(rs + "/sft.jsonl");
  ASSERT_EQ(lines.size(), 9u) << r.output;
  std::map<std::string, int> by_source, by_kind;
  std::set<std::tuple<std::string, int64_t, int64_t>> ids;
  std::vector<std::string> kinds_in_order;
  for (const auto& l : lines) {
    ASSERT_TRUE(l["messages"].IsArray());
    ASSERT_EQ(l["messages"].Size(), 2u);
    EXPECT_STREQ(l["messages"][0]["role"].GetString(), "user");
    EXPECT_STREQ(l["messages"][1]["role"].GetString(), "assistant");
    const std::string content = l["messages"][1]["content"].GetString();
    EXPECT_EQ(content.rfind("<think>\n", 0), 0u) << content;
    EXPECT_NE(content.find("\n</think>\n\n"), std::string::npos) << content;
    const std::string source = l["source"].GetString(), kind = l["kind"].GetString();
    ++by_source[source];
    ++by_kind[kind];
    kinds_in_order.push_back(kind);
    for (const char* key : {"prompt_id", "prompt_index", "origin", "sample_index", "response", "cot", "reward",
                            "rewards", "filters_passed"}) {
      EXPECT_TRUE(l.HasMember(key)) << key;
    }
    EXPECT_EQ(l["filters_passed"].Size(), 5u);  // every enabled filter (truncated and no_answer are off)
    EXPECT_TRUE(ids.insert({source, l["prompt_index"].GetInt64(), l["sample_index"].GetInt64()}).second)
        << "a sample written twice";
    if (kind == "reasoning") {
      EXPECT_GE(l["sample_index"].GetInt64(), 0);
      EXPECT_TRUE(l["reward"].IsNumber());
      EXPECT_TRUE(l["rewards"].HasMember("repetition/repeated_share") || l["rewards"].MemberCount() > 0);
      EXPECT_EQ(std::string(l["prompt_id"].GetString()).rfind("q", 0), 0u);
    } else {
      // General rows with a reference and reference "keep": written as is, without CoT.
      EXPECT_STREQ(l["response"].GetString(), "reference");
      EXPECT_EQ(l["sample_index"].GetInt64(), -1);
      EXPECT_EQ(content.rfind("<think>\n\n</think>\n\nReference answer ", 0), 0u) << content;
    }
  }
  // Quotas: the first source stops at its quota (4), the second fills the kind's remaining 2; general gets 3.
  EXPECT_EQ(by_source["math"], 4);
  EXPECT_EQ(by_source["more_math"], 2);
  EXPECT_EQ(by_kind["reasoning"], 6);
  EXPECT_EQ(by_kind["general"], 3);
  // Shuffled: not the order the sources ran in.
  std::vector<std::string> sorted = kinds_in_order;
  std::stable_sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) { return a > b; });
  EXPECT_NE(kinds_in_order, sorted);

  const json::Document stats = json::parse_file(rs + "/stats.json");
  const json::Value& math = stats["sources"]["math"];
  EXPECT_EQ(math["kept"].GetInt64(), 4);
  EXPECT_EQ(math["written"].GetInt64(), 4);
  EXPECT_GE(math["samples"].GetInt64(), 4);
  EXPECT_EQ(math["samples"].GetInt64(), 3 * math["prompts"].GetInt64());
  // Every correct sample is accounted for: through the filters, or dropped by one (counted per filter).
  for (const char* s : {"math", "more_math"}) {
    const json::Value& v = stats["sources"][s];
    EXPECT_EQ(v["correct"].GetInt64(), v["passed_filters"].GetInt64() + v["dropped_filtered"].GetInt64()) << s;
    EXPECT_EQ(v["passed_filters"].GetInt64(),
              v["kept"].GetInt64() + v["dropped_keep_mode"].GetInt64() + v["dropped_quota"].GetInt64())
        << s;
    for (const char* f : {"mixed_language", "long_paragraph", "code_block", "truncated", "no_answer", "repetition",
                          "duplicate"}) {
      EXPECT_TRUE(v["dropped_by_filter"].HasMember(f)) << f;
    }
    EXPECT_TRUE(v["acceptance_rate"].IsNumber());
    EXPECT_TRUE(v["cot_chars_mean"].IsNumber());
  }
  EXPECT_EQ(stats["sources"]["more_math"]["kept"].GetInt64(), 2);
  EXPECT_GE(stats["sources"]["more_math"]["prompts"].GetInt64(), 2);  // first_k 1: at most one per prompt
  EXPECT_EQ(stats["sources"]["chat"]["trivial_prompts"].GetInt64(), 1);
  EXPECT_EQ(stats["kinds"]["reasoning"]["written"].GetInt64(), 6);
  EXPECT_EQ(stats["written"].GetInt64(), 9);

  // Metrics lines of the stage, and the sft stage trained on the output.
  bool saw_kept = false;
  for (auto& m : read_jsonl(run + "/metrics.jsonl")) {
    if (std::string(m["stage"].GetString()) == "rs" && m.HasMember("kept_per_s")) saw_kept = true;
  }
  EXPECT_TRUE(saw_kept);
  auto sft = metrics_by_step(run, "sft");
  ASSERT_FALSE(sft.empty()) << r.output;
  EXPECT_TRUE(sft.rbegin()->second.HasMember("loss"));
  EXPECT_TRUE(exists(run + "/stages/sft/final/config.json"));
  cleanup_if_passed(dir);
}

TEST(RejectionSamplingStage, GeneralSourceJudgedByAnExternalProcessKeepsTheBestAndNoCotForTrivialPrompts) {
  const std::string dir = scratch_dir();
  // Prompts without reference responses; every third is a trivial "hi".
  std::string chat;
  for (int i = 0; i < 9; ++i) {
    chat += std::string("{\"prompt\": \"") + (i % 3 == 0 ? "hi" : "Tell me something about the number " + std::to_string(i)) +
            "\"}\n";
  }
  write_text(dir + "/chat.jsonl", chat);
  // A judge with a rule the test can check: an even number of bytes is good.
  write_text(dir + "/judge.py",
             "import sys, json\n"
             "for line in sys.stdin:\n"
             "    r = json.loads(line)\n"
             "    s = 1.0 if len(r['completion'].encode()) % 2 == 0 else 0.0\n"
             "    print(json.dumps({'id': r['id'], 'score': s, 'components': {'even': s}}), flush=True)\n");
  const std::string sources = R"([{"path": ")" + dir + R"(/chat.jsonl", "kind": "general", "samples_per_prompt": 4,
      "keep": "best", "threshold": 1, "reward": {"name": "external", "options": {"command": ["python3", ")" + dir + R"(/judge.py"]}}}])";
  const std::string recipe = write_recipe(dir, "[" + rs_stage("rs", sources, R"(, "no_cot_format": "plain")") + "]");
  RunResult r = run_r1({"run", recipe, "--output", dir + "/run", "--quiet"}, dir + "/log.txt");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  const auto lines = read_jsonl(dir + "/run/stages/rs/sft.jsonl");
  ASSERT_FALSE(lines.empty()) << r.output;
  std::set<int64_t> prompts;
  for (const auto& l : lines) {
    EXPECT_DOUBLE_EQ(l["reward"].GetDouble(), 1.0);  // only samples the judge passed
    EXPECT_DOUBLE_EQ(l["rewards"]["even"].GetDouble(), 1.0);
    EXPECT_TRUE(prompts.insert(l["prompt_index"].GetInt64()).second) << "keep best: one sample per prompt";
    const std::string q = l["messages"][0]["content"].GetString(), a = l["messages"][1]["content"].GetString();
    if (q == "hi") {  // trivial: no CoT, and with no_cot_format plain no think block at all
      EXPECT_FALSE(l["cot"].GetBool());
      EXPECT_EQ(a.find("<think>"), std::string::npos) << a;
    } else {
      EXPECT_EQ(a.rfind("<think>\n", 0), 0u) << a;
    }
  }
  const json::Document stats = json::parse_file(dir + "/run/stages/rs/stats.json");
  const json::Value& s = stats["sources"]["chat"];
  EXPECT_EQ(s["prompts"].GetInt64(), 9);
  EXPECT_EQ(s["trivial_prompts"].GetInt64(), 3);
  EXPECT_EQ(s["samples"].GetInt64(), 36);
  EXPECT_EQ(s["correct"].GetInt64() + s["dropped_not_correct"].GetInt64(), 36);
  EXPECT_GT(s["dropped_not_correct"].GetInt64(), 0);
  EXPECT_EQ(s["kept"].GetInt64(), static_cast<int64_t>(lines.size()));
  cleanup_if_passed(dir);
}

TEST(RejectionSamplingStage, ResumeRefusesTheProgressOfOtherSources) {
  // progress.json belongs to the sources it was written for: a resume whose recipe renamed or reordered them
  // (same count) must not credit one source's position and counters to another.
  const std::string dir = scratch_dir();
  write_prompts(dir + "/math.jsonl", 2);
  write_chat(dir + "/chat.jsonl", 2);
  const std::string math = R"({"path": ")" + dir + R"(/math.jsonl", "samples_per_prompt": 1})",
                    chat = R"({"path": ")" + dir + R"(/chat.jsonl", "kind": "general", "reward": null})";
  const std::string run = dir + "/run";
  RunResult r = run_r1({"run", write_recipe(dir, "[" + rs_stage("rs", "[" + math + ", " + chat + "]") + "]"), "--output",
                        run, "--quiet"},
                       dir + "/first.log");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;
  ASSERT_TRUE(exists(run + "/stages/rs/progress.json"));
  std::remove((run + "/state.json").c_str());  // as if killed before the stage was marked complete
  r = run_r1({"run", write_recipe(dir, "[" + rs_stage("rs", "[" + chat + ", " + math + "]") + "]"), "--output", run,
              "--resume", "--quiet"},
             dir + "/swapped.log");
  EXPECT_TRUE(r.exited && r.code != 0) << r.output;
  EXPECT_NE(r.output.find("progress.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("written for the sources math, chat"), std::string::npos) << r.output;
  cleanup_if_passed(dir);
}

int64_t commits_of(const std::string& progress) {
  if (!exists(progress)) return 0;
  try {
    return json::parse(read_text(progress), progress)["commits"].GetInt64();
  } catch (const Error&) {
    return 0;
  }
}

TEST(RejectionSamplingStage, KilledWithSigkillResumesWithoutDuplicatesOrLosses) {
  const std::string dir = scratch_dir();
  write_prompts(dir + "/math.jsonl", 40);
  write_chat(dir + "/chat.jsonl", 12);
  const std::string sources = R"([
      {"path": ")" + dir + R"(/math.jsonl", "samples_per_prompt": 2},
      {"path": ")" + dir + R"(/chat.jsonl", "kind": "general", "reward": null, "reference": "with_cot"}])";
  const std::string recipe =
      write_recipe(dir, "[" + rs_stage("rs", sources, R"(, "batch_prompts": 1, "shard_prompts": 2)") + "]");

  const std::string ref = dir + "/ref", run = dir + "/run";
  RunResult r = run_r1({"run", recipe, "--output", ref, "--quiet"}, dir + "/ref.log");
  ASSERT_TRUE(r.exited && r.code == 0) << r.output;

  const std::string log = dir + "/killed.log";
  const pid_t pid = spawn_r1({"run", recipe, "--output", run, "--quiet"}, log);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  bool reached = false;
  while (std::chrono::steady_clock::now() < deadline) {
    if (commits_of(run + "/stages/rs/progress.json") >= 3) {
      reached = true;
      break;
    }
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  RunResult killed = wait_r1(pid, log);
  ASSERT_TRUE(reached) << killed.output;
  ASSERT_FALSE(killed.exited) << "the run finished before it could be killed: the test proves nothing\n"
                              << killed.output;
  ASSERT_FALSE(exists(run + "/stages/rs/stats.json")) << "the stage completed before the kill";
  // A kill between a shard's write and progress.json's: a shard the progress file does not know of.
  const json::Document progress = json::parse(read_text(run + "/stages/rs/progress.json"), "progress");
  char orphan[64];
  std::snprintf(orphan, sizeof(orphan), "/stages/rs/shards/shard-%06zu.jsonl",
                static_cast<size_t>(progress["shard_sources"].Size()));
  write_text(run + orphan, "{\"messages\": [], \"source\": \"orphan\"}\n");

  RunResult resumed = run_r1({"run", recipe, "--output", run, "--resume", "--quiet"}, dir + "/resumed.log");
  ASSERT_TRUE(resumed.exited && resumed.code == 0) << resumed.output;
  EXPECT_NE(resumed.output.find("resuming at source"), std::string::npos) << resumed.output;

  // The same samples as the uninterrupted run, each once, none lost.
  const std::string a = read_text(ref + "/stages/rs/sft.jsonl"), b = read_text(run + "/stages/rs/sft.jsonl");
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  std::set<std::tuple<std::string, int64_t, int64_t>> ids;
  for (const auto& l : read_jsonl(run + "/stages/rs/sft.jsonl")) {
    EXPECT_TRUE(ids.insert({l["source"].GetString(), l["prompt_index"].GetInt64(), l["sample_index"].GetInt64()}).second)
        << "a sample written twice";
  }
  const json::Document sa = json::parse_file(ref + "/stages/rs/stats.json"),
                       sb = json::parse_file(run + "/stages/rs/stats.json");
  for (const char* s : {"math", "chat"}) {
    for (const char* k : {"prompts", "samples", "correct", "passed_filters", "kept", "kept_reference", "written"}) {
      EXPECT_EQ(sa["sources"][s][k].GetInt64(), sb["sources"][s][k].GetInt64()) << s << "." << k;
    }
    EXPECT_EQ(json::dump(sa["sources"][s]["dropped_by_filter"]), json::dump(sb["sources"][s]["dropped_by_filter"]));
  }
  EXPECT_EQ(sb["sources"]["math"]["prompts"].GetInt64(), 40);
  // Each commit's metrics line once: the lines the killed run wrote after its last progress.json are dropped.
  std::set<int64_t> steps;
  for (auto& m : read_jsonl(run + "/metrics.jsonl")) {
    if (std::string(m["stage"].GetString()) != "rs") continue;
    EXPECT_TRUE(steps.insert(m["step"].GetInt64()).second) << "metrics step " << m["step"].GetInt64() << " twice";
  }
  EXPECT_EQ(steps.size(), metrics_by_step(ref, "rs").size());
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
