// See reward_model_reward.h.
#include "rl/reward_model_reward.h"

#include <algorithm>
#include <cmath>

#include "common/error.h"
#include "common/fs.h"
#include "rewards/options.h"
#include "rl/policy.h"

namespace r1::rl {

const std::vector<std::pair<RmNormalize, const char*>>& enum_names(RmNormalize) {
  static const std::vector<std::pair<RmNormalize, const char*>> names = {
      {RmNormalize::kNone, "none"}, {RmNormalize::kBatch, "batch"}, {RmNormalize::kRunning, "running"}};
  return names;
}

const std::vector<std::pair<RmScorePart, const char*>>& enum_names(RmScorePart) {
  static const std::vector<std::pair<RmScorePart, const char*>> names = {
      {RmScorePart::kAsTrained, "as_trained"}, {RmScorePart::kAll, "all"}, {RmScorePart::kSummary, "summary"}};
  return names;
}

namespace {

// How the model was trained to read (final/r1_reward_model.json), or nothing for a model without that file.
struct TrainedSettings {
  ScorePart part = ScorePart::kAll;
  int64_t max_len = 0;
};

TrainedSettings trained_settings(const std::string& dir) {
  TrainedSettings out;
  const std::string path = path_join(dir, kRewardModelSettingsFile);
  if (!path_exists(path)) return out;
  const json::Document doc = json::parse_file(path);
  out.part = enum_from_name<ScorePart>(json::get_string(doc, "score_part", path), path + ": score_part");
  out.max_len = json::opt_int(doc, "max_len", path).value_or(0);
  return out;
}

}  // namespace

void RewardModelOptions::validate(const std::string& where) const {
  R1_CHECK(!path.empty(), where, ": option 'path' is required (a reward model directory, e.g. a reward_model "
           "stage's final/, or stage:NAME in a recipe)");
  R1_CHECK(clip >= 0 && std::isfinite(clip), where, ": option 'clip' must be >= 0 (0: off)");
  R1_CHECK(batch_size > 0, where, ": option 'batch_size' must be > 0");
  R1_CHECK(max_len >= 0, where, ": option 'max_len' must be >= 0 (0: the model's max_position_embeddings)");
  dtype_from_name(dtype, where + ": option 'dtype'");
}

RewardModelReward::RewardModelReward(const RewardModelOptions& options, const std::string& where) : options_(options) {
  const std::string at = where + ": option 'path'";
  R1_CHECK(options.path.rfind("stage:", 0) != 0, at, ": '", options.path, "' is a stage reference, which only a "
           "recipe's stage resolves; outside a run give the directory (<run>/stages/NAME/final)");
  R1_CHECK(is_directory(options.path), at, ": '", options.path, "' is not a directory (a reward model directory with "
           "config.json, model.safetensors and the tokenizer files)");
  model_ = model::CausalLM::load(options.path, dtype_from_name(options.dtype, where + ": option 'dtype'"),
                                 device_from_name(options.device, where + ": option 'device'"));
  R1_CHECK(model_->config().is_sequence_classifier(), at, ": '", options.path, "' holds a causal LM, not a reward "
           "model (config.json's architectures must be a *ForSequenceClassification class; train one with a "
           "reward_model stage)");
  R1_CHECK(model_->config().num_labels == 1, at, ": '", options.path, "' is a classifier with ",
           model_->config().num_labels, " labels; a reward model has one (num_labels 1, or an id2label of one entry)");
  model_->set_requires_grad(false);
  tokenizer_ = model::Tokenizer::load(options.path);
  const TrainedSettings trained = trained_settings(options.path);
  const ScorePart part = options.score_part == RmScorePart::kAsTrained ? trained.part
                         : options.score_part == RmScorePart::kSummary ? ScorePart::kSummary
                                                                       : ScorePart::kAll;
  const int64_t max_len = options.max_len > 0   ? options.max_len
                          : trained.max_len > 0 ? trained.max_len
                                                : model_->config().max_position_embeddings;
  encoder_ = std::make_unique<RmEncoder>(RmEncoder{*tokenizer_, model::ChatTemplate::resolve(options.chat_template, *tokenizer_),
                                                   part, max_len, rm_pad_id(*model_, at)});
}

rewards::Score RewardModelReward::score(const rewards::Sample& sample) const {
  return score_batch({sample}, nullptr).front();
}

namespace {

// The user turn of a sample: the row's raw "question" when it has one, else the sample's prompt.
std::string question_of(const rewards::Sample& sample) {
  if (sample.row != nullptr) {
    if (const json::Value* q = json::find(*sample.row, "question"); q != nullptr && q->IsString()) {
      return std::string(q->GetString(), q->GetStringLength());
    }
  }
  return sample.prompt;
}

}  // namespace

std::vector<double> RewardModelReward::normalized(const std::vector<double>& raw) const {
  if (options_.normalize == RmNormalize::kNone) return raw;
  double mean = 0, var = 0;
  if (options_.normalize == RmNormalize::kBatch) {
    for (double r : raw) mean += r;
    mean /= static_cast<double>(raw.size());
    for (double r : raw) var += (r - mean) * (r - mean);
    var /= static_cast<double>(raw.size());
  } else {
    for (double r : raw) {  // Welford's update over every row so far
      count_ += 1;
      const double delta = r - mean_;
      mean_ += delta / count_;
      m2_ += delta * (r - mean_);
    }
    mean = mean_;
    var = m2_ / count_;
  }
  std::vector<double> out;
  for (double r : raw) out.push_back((r - mean) / (std::sqrt(var) + 1e-6));
  return out;
}

std::vector<rewards::Score> RewardModelReward::score_batch(const std::vector<rewards::Sample>& samples,
                                                           ThreadPool* /*pool*/) const {
  if (samples.empty()) return {};
  std::vector<std::vector<int64_t>> seqs;
  seqs.reserve(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    std::vector<ChatMessage> conv = {{"user", question_of(samples[i])}, {"assistant", samples[i].completion}};
    seqs.push_back(encoder_->encode(std::move(conv), "reward 'reward_model': row " + std::to_string(i)).ids);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  const std::vector<double> raw = score_sequences(*model_, seqs, encoder_->pad_id, options_.batch_size);
  const std::vector<double> value = normalized(raw);
  std::vector<rewards::Score> out(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) {
    double v = value[i];
    if (options_.clip > 0) v = std::clamp(v, -options_.clip, options_.clip);
    out[i].value = v;
    out[i].components = {{"raw", raw[i]}};
  }
  return out;
}

void register_reward_model_reward(rewards::Registry& registry) {
  rewards::add_reward<RewardModelOptions>(
      registry,
      {"reward_model", "a trained reward model's score of the (prompt, completion) conversation (reward_model stage)"},
      [](const RewardModelOptions& o, const std::string& where) -> rewards::RewardPtr {
        return std::make_shared<RewardModelReward>(o, where);
      });
}

}  // namespace r1::rl
