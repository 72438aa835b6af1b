// All-scenario RL in a grpo stage (issue 14): several prompt sources, each with its own reward, mixing weight
// and step range.
//   * a step's prompts are split over the active sources by weight, deterministically from (seed, step), and on
//     average exactly in proportion;
//   * recipe checks: `sources` with `data`, duplicate names, a step without a source, a source's format reward
//     against its own template; the resolved recipe shows every key of every source and reads back the same;
//   * routing, in a tiny run (random-init tiny model, in-process): a general row (no gold answer) never reaches
//     the reasoning source's `math`, the general reward sees only general rows and its late part only steps
//     from its from_step on; per-source metrics, samples and batches carry the source; a reward that fails on
//     a source's row is an error naming the stage and the source; a run interrupted mid-way and resumed draws
//     exactly the prompts (per source) of an uninterrupted run.
#include <gtest/gtest.h>

#include <signal.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/interrupt.h"
#include "error_of.h"
#include "rewards/registry.h"
#include "rl/grpo/prompt_sources.h"
#include "rl/pipeline.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace r1::rl::testing;
using r1::testing::error_of;

// ---------------------------------------------------------------------------------------------------------
// Splitting a step's prompts.

TEST(GrpoSources, SplitGivesFloorOrCeilOfEachShareAddsUpAndIsFairOnAverage) {
  const std::vector<double> weights = {3.0, 0.0, 1.0, 2.0};
  const int64_t n = 5;
  std::vector<double> mean(weights.size(), 0.0);
  const int trials = 6000;
  for (int seed = 0; seed < trials; ++seed) {
    const std::vector<int64_t> counts = split_prompts(n, weights, static_cast<uint64_t>(seed));
    ASSERT_EQ(counts.size(), weights.size());
    int64_t total = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      const double share = n * weights[i] / 6.0;
      EXPECT_TRUE(counts[i] == static_cast<int64_t>(std::floor(share)) ||
                  counts[i] == static_cast<int64_t>(std::ceil(share))) << "source " << i << " got " << counts[i];
      total += counts[i];
      mean[i] += static_cast<double>(counts[i]) / trials;
    }
    EXPECT_EQ(total, n);
    EXPECT_EQ(counts, split_prompts(n, weights, static_cast<uint64_t>(seed)));  // a pure function
  }
  EXPECT_EQ(mean[1], 0.0);  // weight 0: never
  for (size_t i : {0u, 2u, 3u}) EXPECT_NEAR(mean[i], n * weights[i] / 6.0, 0.03) << "source " << i;
  // Fewer prompts than sources: every source still gets its share over the steps.
  int first = 0, second = 0;
  for (int seed = 0; seed < trials; ++seed) {
    const auto c = split_prompts(1, {1.0, 1.0, 1.0}, static_cast<uint64_t>(seed));
    first += c[0] == 1;
    second += c[1] == 1;
  }
  EXPECT_NEAR(first / double(trials), 1.0 / 3, 0.03);
  EXPECT_NEAR(second / double(trials), 1.0 / 3, 0.03);
  EXPECT_EQ(split_prompts(4, {0.0, 0.0}, 1), (std::vector<int64_t>{0, 0}));
}

TEST(GrpoSources, OnlySourcesActiveAtTheStepGetPromptsTheSameForTheSameSeed) {
  std::vector<PromptSource> sources(3);
  sources[0].config.name = "reasoning";
  sources[1].config.name = "general";
  sources[1].config.from_step = 2;
  sources[1].config.to_step = 4;
  sources[2].config.name = "late";
  sources[2].config.from_step = 3;
  sources[2].config.weight = 2.0;
  for (int64_t step = 0; step < 6; ++step) {
    for (uint64_t seed = 0; seed < 20; ++seed) {
      const auto counts = prompts_per_source(sources, 8, step, seed);
      EXPECT_EQ(counts, prompts_per_source(sources, 8, step, seed));
      EXPECT_EQ(counts[0] + counts[1] + counts[2], 8);
      if (step < 2 || step >= 4) {
        EXPECT_EQ(counts[1], 0) << "step " << step;
      }
      if (step < 3) {
        EXPECT_EQ(counts[2], 0) << "step " << step;
      }
      if (step < 2) {
        EXPECT_EQ(counts[0], 8);
      }
      if (step == 2) {
        EXPECT_EQ(counts, (std::vector<int64_t>{4, 4, 0}));
      }
      if (step >= 4) {  // 8/3 vs 16/3
        EXPECT_TRUE(counts[0] == 2 || counts[0] == 3) << counts[0];
      }
    }
  }
  // The odd prompt goes to different sources on different seeds (not always the first).
  std::set<int64_t> firsts;
  for (uint64_t seed = 0; seed < 20; ++seed) firsts.insert(prompts_per_source(sources, 3, 3, seed)[0]);
  EXPECT_GT(firsts.size(), 1u);
}

// ---------------------------------------------------------------------------------------------------------
// A test reward that records the rows and steps it sees, and can interrupt the run at a step.

struct Seen {
  std::string tag, kind;
  int64_t step;
};
std::mutex g_seen_mutex;
std::vector<Seen> g_seen;
std::atomic<int64_t> g_interrupt_at{-1};  // raise SIGINT the first time a sample of this step is scored

void register_rows_seen_reward() {
  static const bool once = [] {
    struct RowsSeen : rewards::Reward {
      std::string tag;
      std::string name() const override { return "test_rows_seen"; }
      rewards::Score score(const rewards::Sample& sample) const override {
        const json::Value* kind = sample.row ? json::find(*sample.row, "kind") : nullptr;
        {
          std::lock_guard<std::mutex> lock(g_seen_mutex);
          g_seen.push_back({tag, kind && kind->IsString() ? kind->GetString() : "?", sample.step});
        }
        int64_t at = sample.step;
        if (at >= 0 && g_interrupt_at.compare_exchange_strong(at, -1)) ::raise(SIGINT);
        rewards::Score s;
        s.value = static_cast<double>(sample.completion.size() % 3);
        s.components = {{"seen", 1.0}};
        return s;
      }
    };
    rewards::Registry::global().add(
        {"test_rows_seen", "test: records the rows and steps it scores", "tag (string)"},
        [](const json::Value& options, const std::string&) {
          auto r = std::make_shared<RowsSeen>();
          if (const json::Value* t = json::find(options, "tag")) r->tag = t->GetString();
          return rewards::RewardPtr(r);
        });
    return true;
  }();
  (void)once;
}

// Reasoning rows with a gold answer, general rows without one; each says its kind.
void write_sources(const std::string& dir) {
  std::string math, chat;
  for (int i = 0; i < 10; ++i) {
    math += "{\"prompt\": \"" + std::to_string(i) + " + 1\", \"answer\": \"" + std::to_string(i + 1) +
            "\", \"kind\": \"reasoning\"}\n";
    chat += "{\"prompt\": \"say hello to " + std::to_string(i) + "\", \"kind\": \"general\"}\n";
  }
  write_text(dir + "/math.jsonl", math);
  write_text(dir + "/chat.jsonl", chat);
}

// R1's last stage in miniature: reasoning prompts with rule rewards at every step, general prompts from step 1
// with a reward whose "late" part counts from step 3. `general_reward` replaces the general source's reward.
std::string sources_recipe(const std::string& dir, const std::string& general_reward = "") {
  write_sources(dir);
  const std::string reward = !general_reward.empty() ? general_reward : R"({"composite": [
        {"name": "test_rows_seen", "options": {"tag": "always"}},
        {"name": "test_rows_seen", "label": "late", "from_step": 3, "options": {"tag": "late"}}]})";
  const std::string path = dir + "/sources.json";
  write_text(path, R"({"seed": 7, "stages": [{"name": "rl", "type": "grpo", "model": )" + tiny_model_json() + R"(,
    "sources": [
      {"name": "reasoning", "data": {"path": ")" + dir + R"(/math.jsonl"}, "reward": "math,format"},
      {"name": "general", "data": {"path": ")" + dir + R"(/chat.jsonl", "prompt_template": "plain"},
       "from_step": 1, "reward": )" + reward + R"(}],
    "sampling": {"max_new_tokens": 4}, "steps": 5, "prompts_per_step": 2, "group_size": 2,
    "save_every": 1, "keep_last": 0, "samples_every": 1, "samples_per_log": 4, "threads": 1, "reward_threads": 1}]})");
  return path;
}

std::string run_sources(const std::string& recipe, const std::string& out, bool resume = false) {
  RunOptions options;
  options.output_dir = out;
  options.quiet = true;
  options.resume = resume;
  return run_recipe(recipe, options);
}

TEST(GrpoSources, AGeneralRowNeverReachesMathAndEachSourceIsScoredAndReportedApart) {
  register_rows_seen_reward();
  g_seen.clear();
  const std::string dir = scratch_dir();
  const std::string run = dir + "/run";
  ASSERT_EQ(error_of([&] { run_sources(sources_recipe(dir), run); }), "");  // math never saw a general row

  int always = 0, late = 0;
  for (const Seen& s : g_seen) {
    EXPECT_EQ(s.kind, "general") << "the general reward scored a " << s.kind << " row";
    EXPECT_GE(s.step, 1) << "the general source is active from step 1";
    if (s.tag == "late") {
      EXPECT_GE(s.step, 3) << "the late part was called before its from_step";
    }
    always += s.tag == "always";
    late += s.tag == "late";
  }
  EXPECT_EQ(always, 4 * 2);  // steps 1-4: one general prompt x 2 completions
  EXPECT_EQ(late, 2 * 2);    // steps 3-4

  auto metrics = metrics_by_step(run, "rl");
  ASSERT_EQ(metrics.size(), 5u);
  for (auto& [step, m] : metrics) {  // metrics step = index + 1
    const bool general = step >= 2;
    EXPECT_EQ(m["source/reasoning/groups"].GetDouble(), general ? 1.0 : 2.0) << "step " << step;
    EXPECT_EQ(m["source/general/groups"].GetDouble(), general ? 1.0 : 0.0) << "step " << step;
    EXPECT_TRUE(m.HasMember("source/reasoning/reward") && m.HasMember("source/reasoning/accuracy"));
    EXPECT_EQ(m.HasMember("source/general/reward"), general) << "step " << step;
    EXPECT_FALSE(m.HasMember("source/general/accuracy"));  // its reward has no correctness component
    EXPECT_TRUE(m.HasMember("reward/math/correct") && m.HasMember("reward/format") && m.HasMember("accuracy"));
    EXPECT_EQ(m.HasMember("reward/test_rows_seen"), general) << "step " << step;
    EXPECT_EQ(m.HasMember("reward/late"), step >= 4) << "step " << step;
  }
  std::set<std::string> sample_sources;
  for (auto& s : read_jsonl(run + "/samples.jsonl")) {
    const std::string source = s["source"].GetString();
    sample_sources.insert(source);
    EXPECT_EQ(s.HasMember("answer"), source == "reasoning");
  }
  EXPECT_EQ(sample_sources, (std::set<std::string>{"reasoning", "general"}));
  auto batches = read_jsonl(run + "/stages/rl/batches.jsonl");
  ASSERT_EQ(batches.size(), 5u);
  EXPECT_EQ(batches[0]["prompts_by_source"]["reasoning"].Size(), 2u);
  EXPECT_EQ(batches[0]["prompts_by_source"]["general"].Size(), 0u);
  EXPECT_EQ(batches[4]["prompts_by_source"]["general"].Size(), 1u);
  const json::Document state = json::parse_file(run + "/stages/rl/checkpoints/step-000004/trainer_state.json");
  // Positions after 4 steps: reasoning 2 + 1 + 1 + 1, general 0 + 1 + 1 + 1.
  EXPECT_EQ(json::dump(state["extra"]["source_positions"]), R"({"reasoning":5,"general":3})");
  EXPECT_EQ(state["data_position"].GetInt64(), 8);
  cleanup_if_passed(dir);
}

TEST(GrpoSources, AResumedRunDrawsTheSamePromptsPerSourceAsAnUninterruptedOne) {
  register_rows_seen_reward();
  install_interrupt_handlers();
  const std::string dir = scratch_dir();
  const std::string recipe = sources_recipe(dir);
  run_sources(recipe, dir + "/whole");

  g_interrupt_at = 2;  // stop after step index 2 (metrics step 3), mid-run
  const std::string stopped = error_of([&] {
    try {
      run_sources(recipe, dir + "/resumed");
    } catch (const Interrupted&) {
      reset_interrupt();
      throw;
    }
  });
  reset_interrupt();
  EXPECT_NE(stopped.find("stopped after step 3 of 5"), std::string::npos) << stopped;
  EXPECT_FALSE(exists(dir + "/resumed/stages/rl/final"));
  run_sources(recipe, dir + "/resumed", /*resume=*/true);

  EXPECT_EQ(read_text(dir + "/resumed/stages/rl/batches.jsonl"), read_text(dir + "/whole/stages/rl/batches.jsonl"));
  auto whole = metrics_by_step(dir + "/whole", "rl"), resumed = metrics_by_step(dir + "/resumed", "rl");
  ASSERT_EQ(resumed.size(), 5u);
  for (int64_t step = 1; step <= 5; ++step) {
    for (const char* key : {"source/reasoning/reward", "source/reasoning/groups", "source/general/groups", "loss"}) {
      const double a = whole[step][key].GetDouble(), b = resumed[step][key].GetDouble();
      EXPECT_NEAR(a, b, 1e-6 * (1 + std::abs(a))) << key << " step " << step;
    }
  }
  cleanup_if_passed(dir);
}

TEST(GrpoSources, ARewardThatFailsOnASourcesRowNamesTheStageAndTheSource) {
  const std::string dir = scratch_dir();
  const std::string msg = error_of([&] { run_sources(sources_recipe(dir, "\"math\""), dir + "/run"); });
  EXPECT_NE(msg.find("stages[0] (rl): source 'general'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no field 'answer'"), std::string::npos) << msg;
  cleanup_if_passed(dir);
}

// ---------------------------------------------------------------------------------------------------------
// Recipe checks and the resolved recipe.

std::string check_error(const std::string& dir, const std::string& stage_keys) {
  write_sources(dir);
  const std::string path = dir + "/bad.json";
  write_text(path, R"({"stages": [{"name": "rl", "type": "grpo", "model": )" + tiny_model_json() + ", " + stage_keys +
                       "}]}");
  RunOptions options;
  options.check_only = true;
  return error_of([&] { run_recipe(path, options); });
}

TEST(GrpoSources, RecipeErrorsNameTheSource) {
  const std::string dir = scratch_dir();
  const std::string math = R"({"name": "reasoning", "data": {"path": ")" + dir + R"(/math.jsonl"}, "reward": "math")";
  const std::string chat = R"({"name": "general", "data": {"path": ")" + dir + R"(/chat.jsonl"}, "reward": "format")";
  struct Case {
    std::string keys;
    std::vector<std::string> expect;
  };
  const std::vector<Case> cases = {
      {R"("data": {"path": "x.jsonl"}, "sources": [)" + math + "}]", {"stages[0] (rl)", "not both"}},
      {R"("sources": [)" + math + "}, " + math + "}]", {"sources[1] (reasoning)", "two sources are named"}},
      {R"("steps": 6, "sources": [)" + math + R"(, "to_step": 2}, )" + chat + R"(, "from_step": 3}])",
       {"no source is active at step 2"}},
      {R"("sources": [)" + math + R"(, "to_step": 0}])", {"sources[0] (reasoning)", "to_step (0) must be greater"}},
      {R"("sources": [)" + math + R"(, "weight": 0}])", {"sources[0] (reasoning)", "weight must be a number > 0"}},
      {R"("sources": [{"name": "general", "data": {"path": "c.jsonl", "prompt_template": "r1_zero_think"},
          "reward": "format"}])",
       {"sources[0] (general): reward", "think_in_prompt"}},
      {R"("sources": [{"data": {"path": "c.jsonl"}}])", {"sources[0] (c)", "'reward' is required"}},
      {R"("sources": [{"name": "r", "data": {"path": "m.jsonl"}, "reward": [{"name": "math", "to_step": 0}]}])",
       {"sources[0] (r): reward[0]", "key 'to_step'"}},
  };
  for (const Case& c : cases) {
    const std::string msg = check_error(dir, c.keys);
    for (const auto& e : c.expect) EXPECT_NE(msg.find(e), std::string::npos) << c.keys << "\n  -> " << msg;
  }
  cleanup_if_passed(dir);
}

TEST(GrpoSources, TheResolvedRecipeShowsEverySourceKeyAndScheduleAndReadsBackTheSame) {
  register_rows_seen_reward();
  const std::string dir = scratch_dir();
  const std::string recipe = sources_recipe(dir);
  const std::string text = resolve_recipe(recipe, RunOptions{});
  const json::Document resolved = json::parse(text, "resolved");
  const auto& sources = resolved["stages"][0]["sources"];
  ASSERT_EQ(sources.Size(), 2u);
  EXPECT_EQ(std::string(sources[1]["name"].GetString()), "general");
  EXPECT_DOUBLE_EQ(sources[1]["weight"].GetDouble(), 1.0);
  EXPECT_EQ(sources[1]["from_step"].GetInt64(), 1);
  EXPECT_TRUE(sources[1]["to_step"].IsNull());
  EXPECT_EQ(std::string(sources[1]["data"]["prompt_template"].GetString()), "plain");
  EXPECT_EQ(sources[1]["reward"]["composite"][1]["from_step"].GetInt64(), 3);
  EXPECT_TRUE(sources[0]["reward"]["composite"][0]["options"].IsObject());  // math's options, with defaults
  const std::string again_path = dir + "/resolved.json";
  write_text(again_path, text);
  const json::Document again = json::parse(resolve_recipe(again_path, RunOptions{}), "again");
  EXPECT_EQ(json::dump(again["stages"]), json::dump(resolved["stages"]));
  cleanup_if_passed(dir);
}

}  // namespace
}  // namespace r1::rl
