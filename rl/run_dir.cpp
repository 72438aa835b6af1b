// See run_dir.h.
#include "rl/run_dir.h"

#include <chrono>
#include <cmath>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"

namespace r1::rl {

namespace {
double unix_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
}  // namespace

void Metrics::set(const std::string& name, double value) {
  auto it = index_.find(name);
  if (it == index_.end()) {
    index_[name] = items_.size();
    items_.emplace_back(name, value);
  } else {
    items_[it->second].second = value;
  }
}

void Metrics::add(const std::string& name, double value) {
  auto it = index_.find(name);
  if (it == index_.end()) {
    set(name, value);
  } else {
    items_[it->second].second += value;
  }
}

bool Metrics::has(const std::string& name) const { return index_.count(name) > 0; }

double Metrics::get(const std::string& name) const {
  auto it = index_.find(name);
  R1_CHECK(it != index_.end(), "metric '", name, "' was not recorded");
  return items_[it->second].second;
}

std::vector<std::pair<std::string, double>> Metrics::pick(const std::vector<std::string>& names) const {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& n : names) {
    auto it = index_.find(n);
    if (it != index_.end()) out.push_back(items_[it->second]);
  }
  return out;
}

RunDir::RunDir(const std::string& root, bool resume, bool writer) : root_(root), writer_(writer) {
  make_dirs(root_);
  const std::string state_path = path("state.json");
  if (path_exists(state_path)) {
    json::Document state = json::parse_file(state_path, false);
    const json::Value& done = json::get(state, "completed", state_path);
    R1_CHECK(done.IsObject(), state_path, ": key 'completed' must be an object");
    for (auto it = done.MemberBegin(); it != done.MemberEnd(); ++it) {
      R1_CHECK(it->value.IsString(), state_path, ": completed stage '", it->name.GetString(), "' must map to a path");
      completed_[it->name.GetString()] = it->value.GetString();
    }
  }
  if (!writer_) return;
  const bool has_work = !completed_.empty() || path_exists(path("stages"));
  R1_CHECK(resume || !has_work, root_, ": this run directory already holds a run (state.json or stages/). "
           "Continue it with --resume, or choose another --output directory.");
  metrics_ = std::make_unique<JsonlWriter>(path("metrics.jsonl"));
  samples_ = std::make_unique<JsonlWriter>(path("samples.jsonl"));
}

std::string RunDir::path(const std::string& name) const { return path_join(root_, name); }

std::string RunDir::stage_dir(const std::string& stage) const {
  std::string dir = path_join(path("stages"), stage);
  make_dirs(dir);
  return dir;
}

void RunDir::log_metrics(const std::string& stage, int64_t step, const Metrics& metrics) {
  if (!writer_) return;
  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("stage", json::Value(stage.c_str(), a), a);
  doc.AddMember("step", json::Value(step), a);
  const double now = std::round(unix_seconds() * 1000) / 1000;
  doc.AddMember("time", json::Value(now), a);
  for (const auto& [name, value] : metrics.items()) {
    json::Value v;
    if (std::isfinite(value)) {
      v.SetDouble(value);
    } else {
      v.SetNull();  // JSON has no NaN/Inf; null marks a non-finite value
    }
    doc.AddMember(json::Value(name.c_str(), a), v, a);
  }
  metrics_->write_line(doc);
  auto tb = tensorboard_.find(stage);
  tensorboard::EventFileWriter& events =
      tb != tensorboard_.end() ? *tb->second : new_tensorboard_session(stage, step, now);
  events.write_scalars(step, metrics.items(), now);  // non-finite values stay NaN / ±inf (TensorBoard shows them)
}

tensorboard::EventFileWriter& RunDir::new_tensorboard_session(const std::string& stage, int64_t start_step,
                                                              double now) {
  auto& writer = tensorboard_[stage];
  writer.reset();  // the previous session's file is complete
  writer = std::make_unique<tensorboard::EventFileWriter>(
      path_join(path("tensorboard"), tensorboard::safe_run_dir(stage)));
  writer->write_session_start(start_step, now);
  return *writer;
}

void RunDir::log_sample(const json::Value& sample) {
  if (writer_) samples_->write_line(sample);
}

namespace {
// True for a line of `stage` logged at a step after `step`.
bool logged_after(const json::Value& line, const std::string& stage, int64_t step) {
  const json::Value* s = json::find(line, "stage");
  const json::Value* k = json::find(line, "step");
  return s && s->IsString() && stage == s->GetString() && k && k->IsInt64() && k->GetInt64() > step;
}
}  // namespace

void RunDir::forget_steps_after(const std::string& stage, int64_t step) {
  if (!writer_) return;
  auto keep = [&](const json::Value& line) { return !logged_after(line, stage, step); };
  metrics_.reset();
  samples_.reset();
  filter_jsonl(path("metrics.jsonl"), keep);
  filter_jsonl(path("samples.jsonl"), keep);
  metrics_ = std::make_unique<JsonlWriter>(path("metrics.jsonl"));
  samples_ = std::make_unique<JsonlWriter>(path("samples.jsonl"));
  // TensorBoard drops what it read of the forgotten steps when it reaches this START (see run_dir.h).
  new_tensorboard_session(stage, step + 1, unix_seconds());
}

bool RunDir::stage_completed(const std::string& stage) const { return completed_.count(stage) > 0; }

std::string RunDir::stage_output(const std::string& stage) const {
  auto it = completed_.find(stage);
  if (it == completed_.end()) return std::string();
  // Outputs inside the run directory are stored relative to it, so a run directory can be moved.
  return it->second.empty() || it->second[0] == '/' ? it->second : path_join(root_, it->second);
}

void RunDir::mark_completed(const std::string& stage, const std::string& output) {
  const std::string prefix = root_.back() == '/' ? root_ : root_ + "/";
  completed_[stage] = output.rfind(prefix, 0) == 0 ? output.substr(prefix.size()) : output;
  if (writer_) save_state();
}

void RunDir::save_state() const {
  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  json::Value done(rapidjson::kObjectType);
  for (const auto& [stage, out] : completed_) done.AddMember(json::Value(stage.c_str(), a), json::Value(out.c_str(), a), a);
  doc.AddMember("completed", done, a);
  write_file_atomic(path("state.json"), json::dump(doc, true) + "\n");
}

}  // namespace r1::rl
