// Writing an HF model directory through a staging directory. See hf_checkpoint.h.
//
// Order inside the staging directory: config.json, generation_config.json, tensors, tokenizer files,
// extra files, then the caller's callback; every step validates before writing, and the first failure
// removes the staging directory. Extra file names are checked to stay inside the directory and not to
// overwrite a file written before them (a caller passing its own config.json twice is a bug to report,
// not to resolve silently).
#include "model/hf_checkpoint.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "model/safetensors.h"
#include "model/tokenizer/tokenizer.h"

namespace r1::model {
namespace {

namespace fs = std::filesystem;

// DIR without trailing separators; "", "/" and "." are refused (the staging sibling needs a parent).
std::string normalised_target(const std::string& dir) {
  std::string d = fs::path(dir).lexically_normal().string();
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  R1_CHECK(!d.empty() && d != "/" && d != "." && d != "..", "write_hf_checkpoint: '", dir,
           "' cannot be a checkpoint directory");
  return d;
}

std::string staging_name(const std::string& target) {
  static std::atomic<unsigned> counter{0};
  return target + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

void check_relative_inside(const std::string& name, const std::string& dir) {
  const fs::path p(name);
  bool ok = !name.empty() && !p.is_absolute() && p.has_filename();
  for (const auto& part : p) ok = ok && part != ".." && part != ".";
  R1_CHECK(ok, dir, ": extra file name '", name, "' must be a relative path inside the checkpoint directory");
}

// Errors raised inside the staging directory name DIR.tmp-<pid>-<n>/...: report DIR/... instead.
std::string name_target_not_staging(std::string message, const std::string& staging, const std::string& target) {
  for (size_t at = message.find(staging); at != std::string::npos; at = message.find(staging, at + target.size())) {
    message.replace(at, staging.size(), target);
  }
  return message;
}

std::vector<std::string> list_files(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (entry.is_regular_file()) out.push_back(fs::relative(entry.path(), root).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void write_into_staging(const std::string& staging, const std::string& target, const HfCheckpointContents& c) {
  const std::string config_origin = path_join(target, "config.json");
  const json::Document config = json::parse(c.config_json, config_origin);
  R1_CHECK(config.IsObject(), config_origin, ": config.json must be a JSON object, got ", json::type_name(config));
  write_file_atomic(path_join(staging, "config.json"), c.config_json);

  std::string generation;
  if (c.generation_config_json) {
    generation = *c.generation_config_json;
    const json::Document parsed = json::parse(generation, path_join(target, "generation_config.json"));
    R1_CHECK(parsed.IsObject(), target, ": generation_config.json must be a JSON object");
  } else {
    generation = default_generation_config(c.config_json, config_origin);
  }
  write_file_atomic(path_join(staging, "generation_config.json"), generation);

  save_checkpoint_tensors(staging, c.tensors, c.max_shard_bytes, c.stored_as_f8_e4m3);

  if (!c.tokenizer_dir.empty()) copy_tokenizer_files(c.tokenizer_dir, staging);

  for (const auto& [name, bytes] : c.extra_files) {
    check_relative_inside(name, target);
    const std::string path = path_join(staging, name);
    R1_CHECK(!fs::exists(path), target, ": extra file '", name, "' would overwrite a file already written");
    make_dirs(fs::path(path).parent_path().string());
    write_file_atomic(path, bytes);
  }
  if (c.add_files) c.add_files(staging);
}

}  // namespace

std::string default_generation_config(const std::string& config_json, const std::string& origin) {
  const json::Document config = json::parse(config_json, origin);
  R1_CHECK(config.IsObject(), origin, ": expected a JSON object");
  json::Document out;
  out.SetObject();
  auto& alloc = out.GetAllocator();
  out.AddMember("_from_model_config", true, alloc);
  for (const char* key : {"bos_token_id", "eos_token_id", "pad_token_id"}) {
    const json::Value* v = json::find(config, key);
    if (v == nullptr || v->IsNull()) continue;
    const bool int_list = v->IsArray() && std::all_of(v->Begin(), v->End(), [](const json::Value& x) { return x.IsInt64(); });
    R1_CHECK(v->IsInt64() || int_list, origin, ": key '", key, "': expected an integer or a list of integers, got ",
             json::type_name(*v));
    out.AddMember(rapidjson::StringRef(key), json::Value(*v, alloc), alloc);
  }
  return json::dump(out, /*pretty=*/true) + "\n";
}

std::string generation_config_with_eos(const std::string& generation_json, int64_t id, const std::string& origin) {
  json::Document doc = json::parse(generation_json, origin);
  R1_CHECK(doc.IsObject(), origin, ": expected a JSON object, got ", json::type_name(doc));
  std::vector<int64_t> ids = json::opt_int_list(doc, "eos_token_id", origin);
  if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  auto& alloc = doc.GetAllocator();
  json::Value value;
  if (ids.size() == 1) {
    value.SetInt64(ids[0]);
  } else {
    value.SetArray();
    for (int64_t x : ids) value.PushBack(json::Value(x), alloc);
  }
  json::set_member(doc, doc, "eos_token_id", std::move(value));
  if (doc.HasMember("_from_model_config")) doc.EraseMember("_from_model_config");  // Erase keeps the order
  return json::dump(doc, /*pretty=*/true) + "\n";
}

std::vector<std::string> write_hf_checkpoint(const std::string& dir, const HfCheckpointContents& contents) {
  const std::string target = normalised_target(dir);
  const std::string parent = fs::path(target).parent_path().string();
  if (!parent.empty()) make_dirs(parent);
  R1_CHECK(!fs::exists(target) || fs::is_directory(target), target, ": exists and is not a directory");
  const std::string staging = staging_name(target);
  remove_all(staging);
  make_dirs(staging);
  try {
    write_into_staging(staging, target, contents);
    fsync_dir(staging);
    std::vector<std::string> files = list_files(staging);
    replace_dir_atomic(staging, target);
    return files;
  } catch (const Error& e) {
    remove_all(staging);
    throw Error(name_target_not_staging(e.what(), staging, target));
  } catch (...) {
    remove_all(staging);
    throw;
  }
}

}  // namespace r1::model
