// See checkpoint.h.
#include "rl/checkpoint.h"

#include <ATen/core/grad_mode.h>

#include <cstdio>
#include <filesystem>

#include "common/error.h"
#include "common/fs.h"
#include "model/safetensors.h"

namespace r1::rl {
namespace {

namespace fs = std::filesystem;

std::string step_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "step-%06ld", static_cast<long>(step));
  return buf;
}

bool complete(const std::string& dir) {
  return path_exists(path_join(dir, "trainer_state.json")) && path_exists(path_join(dir, "config.json"));
}

}  // namespace

std::string checkpoint_dir_for(const std::string& stage_dir, int64_t step) {
  return path_join(path_join(stage_dir, "checkpoints"), step_name(step));
}

std::string save_checkpoint(const std::string& stage_dir, const model::CausalLM& model, const std::string& tokenizer_dir,
                            const std::vector<std::pair<std::string, at::Tensor>>& optimizer_state,
                            int64_t optimizer_steps, const TrainerState& state, int64_t keep_last,
                            const std::function<void(const std::string& staging_dir)>& add_files) {
  const std::string root = path_join(stage_dir, "checkpoints");
  make_dirs(root);
  const std::string name = step_name(state.step);
  const std::string staging = path_join(root, ".staging-" + name);
  const std::string target = path_join(root, name);
  remove_all(staging);
  model.save(staging, tokenizer_dir);
  model::save_safetensors(path_join(staging, "optimizer.safetensors"), optimizer_state);
  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("step", json::Value(state.step), a);
  doc.AddMember("data_position", json::Value(state.data_position), a);
  doc.AddMember("optimizer_steps", json::Value(optimizer_steps), a);
  json::Document extra = json::parse(state.extra_json, "trainer state extras");
  doc.AddMember("extra", json::Value(extra, a), a);
  if (add_files) add_files(staging);
  // trainer_state.json is what marks a checkpoint complete: written last.
  write_file_atomic(path_join(staging, "trainer_state.json"), json::dump(doc, true) + "\n");
  replace_dir_atomic(staging, target);
  write_file_atomic(path_join(root, "latest"), name + "\n");

  // Keep the newest keep_last complete checkpoints; remove older ones and stray staging directories.
  std::vector<std::string> steps;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string n = entry.path().filename().string();
    if (n.rfind(".staging-", 0) == 0 && n != ".staging-" + name) remove_all(entry.path().string());
    if (entry.is_directory() && n.rfind("step-", 0) == 0) steps.push_back(n);
  }
  std::sort(steps.begin(), steps.end());
  for (size_t i = 0; keep_last > 0 && i + static_cast<size_t>(keep_last) < steps.size(); ++i) {
    if (steps[i] != name) remove_all(path_join(root, steps[i]));
  }
  return target;
}

std::optional<std::string> latest_checkpoint(const std::string& stage_dir) {
  const std::string root = path_join(stage_dir, "checkpoints");
  if (!is_directory(root)) return std::nullopt;
  const std::string latest_file = path_join(root, "latest");
  if (path_exists(latest_file)) {
    std::string name = read_file(latest_file);
    while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
    const std::string dir = path_join(root, name);
    if (complete(dir)) return dir;
  }
  // `latest` missing or stale (a crash between the rename and its update): the newest complete step.
  std::vector<std::string> steps;
  for (const auto& entry : fs::directory_iterator(root)) {
    const std::string n = entry.path().filename().string();
    if (entry.is_directory() && n.rfind("step-", 0) == 0 && complete(entry.path().string())) steps.push_back(n);
  }
  if (steps.empty()) return std::nullopt;
  std::sort(steps.begin(), steps.end());
  return path_join(root, steps.back());
}

TrainerState load_trainer_state(const std::string& checkpoint_dir, AdamW& optimizer) {
  const std::string state_path = path_join(checkpoint_dir, "trainer_state.json");
  json::Document doc = json::parse_file(state_path, false);
  TrainerState state;
  state.step = json::get_int(doc, "step", state_path);
  state.data_position = json::get_int(doc, "data_position", state_path);
  state.optimizer_steps = json::get_int(doc, "optimizer_steps", state_path);
  if (const json::Value* extra = json::find(doc, "extra")) state.extra_json = json::dump(*extra);
  const std::string opt_path = path_join(checkpoint_dir, "optimizer.safetensors");
  model::SafetensorsFile file(opt_path);
  std::vector<std::pair<std::string, at::Tensor>> tensors;
  for (const auto& info : file.tensors()) tensors.emplace_back(info.name, file.load(info.name));
  optimizer.load_state(tensors, state.optimizer_steps, opt_path);
  return state;
}

namespace {

// [1, 16] fixed ids spread over the vocabulary.
at::Tensor probe_ids(int64_t vocab) {
  at::Tensor ids = at::arange(16, at::kLong) * 37 + 3;
  return at::remainder(ids, vocab).unsqueeze(0);
}

// {"lse": [T], "last": [V]} of the model on probe_ids, in fp32.
std::pair<at::Tensor, at::Tensor> probe_logits(const model::CausalLM& model) {
  at::NoGradGuard no_grad;
  at::Tensor ids = probe_ids(model.config().vocab_size);
  auto out = model.forward(ids);
  at::Tensor logits = model.logits(out.hidden).to(at::kFloat)[0];  // [T, V]
  return {at::logsumexp(logits, -1).contiguous(), logits[-1].contiguous()};
}

json::Value float_array(const at::Tensor& t, json::Document::AllocatorType& a) {
  json::Value arr(rapidjson::kArrayType);
  const float* p = t.data_ptr<float>();
  for (int64_t i = 0; i < t.numel(); ++i) arr.PushBack(json::Value(static_cast<double>(p[i])), a);
  return arr;
}

at::Tensor read_floats(const json::Value& doc, const char* key, const std::string& where) {
  const json::Value& arr = json::get(doc, key, where);
  R1_CHECK(arr.IsArray(), where, ": '", key, "' must be an array of numbers");
  at::Tensor t = at::empty({static_cast<int64_t>(arr.Size())}, at::kFloat);
  float* p = t.data_ptr<float>();
  for (rapidjson::SizeType i = 0; i < arr.Size(); ++i) {
    R1_CHECK(arr[i].IsNumber(), where, ": '", key, "'[", i, "] is not a number");
    p[i] = static_cast<float>(arr[i].GetDouble());
  }
  return t;
}

}  // namespace

void write_logit_probe(const std::string& path, const model::CausalLM& model) {
  auto [lse, last] = probe_logits(model);
  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  doc.AddMember("lse", float_array(lse, a), a);
  doc.AddMember("last", float_array(last, a), a);
  write_file_atomic(path, json::dump(doc) + "\n");
}

double check_logit_probe(const std::string& probe_path, const std::string& model_dir) {
  json::Document doc = json::parse_file(probe_path);
  at::Tensor lse = read_floats(doc, "lse", probe_path), last = read_floats(doc, "last", probe_path);
  auto model = model::CausalLM::load(model_dir, at::kFloat);
  auto [lse2, last2] = probe_logits(*model);
  R1_CHECK(lse.sizes() == lse2.sizes() && last.sizes() == last2.sizes(), probe_path,
           ": the probe does not match the shape of the model in ", model_dir);
  return std::max((lse - lse2).abs().max().item<double>(), (last - last2).abs().max().item<double>());
}

}  // namespace r1::rl
