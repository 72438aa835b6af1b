// `r1 reward list` and `r1 reward score`: the reward registry from the command line.
//
//   r1 reward list [--markdown] [--plugin LIB.so]...
//   r1 reward score --reward SPEC --input IN.jsonl [--output OUT.jsonl] [--threads N] [--skip-bad]
//                   [--reasons] [--plugin LIB.so]...
//
// `list` prints every reward with its options (type, default, help: from each reward's options struct);
// --markdown prints the options tables of docs/rewards.md instead.
// SPEC is a reward name, "a,b" (equal-weight sum) or a JSON spec (rewards/registry.h). Each input line
// is a JSON object with "completion" (string) and the fields the rewards read ("answer", "target_lang",
// "numbers"/"target", ...), optionally "prompt", "completion_tokens", "truncated" and "id". Each output
// line is {"id": ..., "score": x, "components": {...}} in input order ("id" only when the input had one;
// "reason" with --reasons). A bad line (not JSON, no completion, a field a reward rejects) stops the run
// with an error naming file:line, or with --skip-bad is reported on stderr and left out of the output;
// the summary line counts them, so no line disappears silently. Lines are scored in batches on a
// thread pool.
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "cli/commands.h"
#include "common/error.h"
#include "common/jsonl.h"
#include "common/thread_pool.h"
#include "rewards/plugin_loader.h"
#include "rewards/registry.h"

namespace r1::cli {
namespace {

using rewards::Registry;
using rewards::RewardPtr;
using rewards::Sample;
using rewards::Score;

void load_plugins(const std::vector<std::string>& plugins) {
  for (const std::string& lib : plugins) {
    std::vector<std::string> names = rewards::register_plugin_library(Registry::global(), lib);
    std::string joined;
    for (const std::string& n : names) joined += (joined.empty() ? "" : ", ") + n;
    std::fprintf(stderr, "loaded plugin %s: %s\n", lib.c_str(), joined.c_str());
  }
}

void run_list(const std::vector<std::string>& plugins, bool markdown) {
  load_plugins(plugins);
  if (markdown) {
    std::fputs(rewards::options_markdown(Registry::global()).c_str(), stdout);
    return;
  }
  for (const rewards::RewardInfo& info : Registry::global().list()) {
    std::printf("%s\n    %s\n", info.name.c_str(), info.description.c_str());
    size_t start = 0;
    while (start < info.options_help.size()) {
      size_t end = info.options_help.find('\n', start);
      if (end == std::string::npos) end = info.options_help.size();
      std::printf("      %s\n", info.options_help.substr(start, end - start).c_str());
      start = end + 1;
    }
    std::printf("\n");
  }
  std::printf("Spec: NAME | \"a,b\" | '{\"name\": NAME, \"options\": {...}}' | "
              "'{\"composite\": [{\"name\": NAME, \"weight\": W, \"options\": {...}}, ...]}'\n");
}

struct ScoreArgs {
  std::string reward, input, output;
  size_t threads = 0;
  bool skip_bad = false, reasons = false;
  size_t batch = 512;
  std::vector<std::string> plugins;
};

// One input line kept for its batch.
struct Line {
  size_t number = 0;
  json::Document row;
  Sample sample;
};

// Fills the sample of a line from its row; false with a message when the line is unusable.
bool make_sample(Line& line, std::string& error) {
  const json::Value& row = line.row;
  const json::Value* completion = json::find(row, "completion");
  if (completion == nullptr || !completion->IsString()) {
    error = completion == nullptr ? "no field 'completion'" : "field 'completion' is not a string";
    return false;
  }
  line.sample.completion.assign(completion->GetString(), completion->GetStringLength());
  if (const json::Value* p = json::find(row, "prompt")) {
    if (!p->IsString()) {
      error = "field 'prompt' is not a string";
      return false;
    }
    line.sample.prompt.assign(p->GetString(), p->GetStringLength());
  }
  if (const json::Value* t = json::find(row, "completion_tokens")) {
    if (!t->IsInt64() || t->GetInt64() < 0) {
      error = "field 'completion_tokens' is not a non-negative integer";
      return false;
    }
    line.sample.completion_tokens = t->GetInt64();
  }
  if (const json::Value* t = json::find(row, "truncated")) {
    if (!t->IsBool()) {
      error = "field 'truncated' is not true/false";
      return false;
    }
    line.sample.truncated = t->GetBool();
  }
  line.sample.row = &line.row;
  return true;
}

std::string output_line(const json::Value& row, const Score& score, bool reasons) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  if (const json::Value* id = json::find(row, "id")) {
    w.Key("id");
    id->Accept(w);
  }
  w.Key("score");
  w.Double(score.value);
  w.Key("components");
  w.StartObject();
  for (const auto& [name, value] : score.components) {
    w.Key(name.c_str(), static_cast<rapidjson::SizeType>(name.size()));
    w.Double(value);
  }
  w.EndObject();
  if (reasons) {
    w.Key("reason");
    w.String(score.reason.c_str(), static_cast<rapidjson::SizeType>(score.reason.size()));
  }
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

class Scorer {
 public:
  explicit Scorer(const ScoreArgs& args)
      : args_(args), pool_(args.threads), reward_(Registry::global().make_from_spec(args.reward, "--reward")) {
    if (!args.output.empty()) writer_ = std::make_unique<JsonlWriter>(args.output, /*append=*/false);
  }

  void add(size_t number, const json::Value& row) {
    auto line = std::make_unique<Line>();
    line->number = number;
    line->row.CopyFrom(row, line->row.GetAllocator());
    std::string error;
    if (!make_sample(*line, error)) {
      bad(number, error);
      return;
    }
    batch_.push_back(std::move(line));
    if (batch_.size() >= args_.batch) flush();
  }

  // `error` already names the file and line when `located` (the JSONL reader's messages do).
  void bad(size_t number, const std::string& error, bool located = false) {
    std::string where = located ? error : args_.input + ":" + std::to_string(number) + ": " + error;
    if (!args_.skip_bad) fail(where);
    std::fprintf(stderr, "skipped %s\n", where.c_str());
    ++skipped_;
  }

  void flush() {
    if (batch_.empty()) return;
    std::vector<Sample> samples;
    samples.reserve(batch_.size());
    for (const auto& line : batch_) samples.push_back(line->sample);
    std::vector<Score> scores;
    std::vector<bool> ok(batch_.size(), true);
    try {
      scores = reward_->score_batch(samples, &pool_);
    } catch (const Error&) {
      // Find the line(s) at fault one by one, so the error names them; then score the others again as one batch,
      // since a reward may depend on its batch (a reward model's batch z-score). No line at fault: the batch
      // itself failed, and its error stands.
      scores.assign(batch_.size(), Score{});
      std::vector<Sample> good;
      std::vector<size_t> good_lines;
      for (size_t k = 0; k < batch_.size(); ++k) {
        try {
          reward_->score(samples[k]);
          good.push_back(samples[k]);
          good_lines.push_back(k);
        } catch (const Error& e) {
          ok[k] = false;
          bad(batch_[k]->number, e.what());
        }
      }
      if (good.size() == samples.size()) throw;
      if (!good.empty()) {
        const std::vector<Score> again = reward_->score_batch(good, &pool_);
        for (size_t i = 0; i < good.size(); ++i) scores[good_lines[i]] = again[i];
      }
    }
    for (size_t k = 0; k < batch_.size(); ++k) {
      if (!ok[k]) continue;
      emit(batch_[k]->row, scores[k]);
    }
    batch_.clear();
  }

  void summary(double seconds) const {
    std::fprintf(stderr, "scored %zu lines in %.2f s (%zu skipped)", scored_, seconds, skipped_);
    if (scored_ > 0) {
      std::fprintf(stderr, "; mean score %.4f", total_ / static_cast<double>(scored_));
      for (const auto& [name, sum] : component_sums_)
        std::fprintf(stderr, ", %s %.4f", name.c_str(), sum / static_cast<double>(scored_));
    }
    std::fprintf(stderr, "\n");
  }

 private:
  void emit(const json::Value& row, const Score& score) {
    std::string line = output_line(row, score, args_.reasons);
    if (writer_) {
      writer_->write_raw_line(line);
    } else {
      std::fwrite(line.data(), 1, line.size(), stdout);
      std::fputc('\n', stdout);
    }
    ++scored_;
    total_ += score.value;
    for (const auto& [name, value] : score.components) component_sums_[name] += value;
  }

  const ScoreArgs& args_;
  ThreadPool pool_;
  RewardPtr reward_;
  std::unique_ptr<JsonlWriter> writer_;
  std::vector<std::unique_ptr<Line>> batch_;
  size_t scored_ = 0, skipped_ = 0;
  double total_ = 0;
  std::map<std::string, double> component_sums_;
};

void run_score(const ScoreArgs& args) {
  load_plugins(args.plugins);
  auto start = std::chrono::steady_clock::now();
  Scorer scorer(args);
  JsonlOptions options;
  options.skip_bad_lines = args.skip_bad;
  for_each_jsonl(
      args.input, [&](size_t number, const json::Value& row) { scorer.add(number, row); }, options,
      [&](size_t number, const std::string& error) { scorer.bad(number, error, /*located=*/true); });
  scorer.flush();
  std::fflush(stdout);
  scorer.summary(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace

void add_reward_commands(CLI::App& app) {
  CLI::App* reward = app.add_subcommand("reward", "Rewards: list them, score a JSONL file of completions");
  reward->require_subcommand(1);

  auto plugins = std::make_shared<std::vector<std::string>>();
  auto markdown = std::make_shared<bool>(false);
  CLI::App* list = reward->add_subcommand("list", "Every reward with its options and defaults");
  list->add_option("--plugin", *plugins, "Load a reward plugin library (.so) first; repeatable");
  list->add_flag("--markdown", *markdown, "Print the options tables of docs/rewards.md (markdown)");
  list->callback([plugins, markdown] { run_list(*plugins, *markdown); });

  auto args = std::make_shared<ScoreArgs>();
  CLI::App* score = reward->add_subcommand("score", "Score the completions of a JSONL file");
  score->add_option("--reward", args->reward, "Reward spec: NAME, \"a,b\" or JSON (see `r1 reward list`)")->required();
  score->add_option("--input", args->input, "JSONL input: one object per line with \"completion\" and row fields")
      ->required();
  score->add_option("--output", args->output, "JSONL output (default: stdout)");
  score->add_option("--threads", args->threads, "Scoring threads (0 = all cores)");
  score->add_option("--batch", args->batch, "Lines scored per batch")->check(CLI::Range(1, 1 << 20));
  score->add_flag("--skip-bad", args->skip_bad, "Report bad lines on stderr and skip them instead of stopping");
  score->add_flag("--reasons", args->reasons, "Add each score's one-line reason to the output");
  score->add_option("--plugin", args->plugins, "Load a reward plugin library (.so) first; repeatable");
  score->callback([args] { run_score(*args); });
}

}  // namespace r1::cli
