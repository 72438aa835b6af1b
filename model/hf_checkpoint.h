// Writing a complete Hugging Face model directory, atomically.
//
// What it writes into DIR: config.json (text given by the caller: the model config serialiser lives with
// the model code), generation_config.json (given, or derived from the bos/eos/pad ids in config.json),
// the tensors under their HF names (model.safetensors, or model-0000k-of-0000n.safetensors shards plus
// model.safetensors.index.json above max_shard_bytes; see safetensors.h), the tokenizer files found in a
// source directory (kTokenizerFiles of model/tokenizer/tokenizer.h, whichever exist), and any extra files of the
// caller (e.g. trainer_state.json) given as bytes or written by a callback into the staging directory.
//
// The trick: everything is written into a sibling staging directory DIR.tmp-<pid>-<n> and moved over DIR
// with common/fs.h's replace_dir_atomic only when complete, so a reader (or a run resumed after kill -9)
// sees either the old checkpoint or the new one, never a mixture; on any error the staging directory is
// removed and DIR is untouched. The tokenizer files are read before the rename, so the source may be
// DIR itself (re-saving over the model one loaded from).
//
// What it is not: no config serialisation, no name mapping (tensors must already carry HF names), no
// optimizer state format (the trainer writes its own files through `extra_files` / `add_files`).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

namespace r1::model {

struct HfCheckpointContents {
  std::string config_json;                               // written verbatim; must be a JSON object
  std::optional<std::string> generation_config_json;     // written verbatim when set (must be JSON)
  std::vector<std::pair<std::string, at::Tensor>> tensors;  // HF names → tensors
  std::set<std::string> stored_as_f8_e4m3;               // uint8 tensors to tag F8_E4M3
  uint64_t max_shard_bytes = 5ull << 30;
  std::string tokenizer_dir;                             // "" = copy no tokenizer files
  std::vector<std::pair<std::string, std::string>> extra_files;  // (relative path, bytes)
  std::function<void(const std::string& staging_dir)> add_files;  // runs last, before the rename
};

// Writes the directory atomically (see above) and returns the relative paths of the files it holds,
// sorted. Throws r1::Error naming the directory and the offending file or tensor; DIR is then untouched.
std::vector<std::string> write_hf_checkpoint(const std::string& dir, const HfCheckpointContents& contents);

// The generation_config.json written when none is given: {"_from_model_config": true} plus whichever of
// bos_token_id, eos_token_id (int or list) and pad_token_id config.json has, as HF's
// GenerationConfig.from_model_config would. `origin` names config.json in errors.
std::string default_generation_config(const std::string& config_json, const std::string& origin);

// generation_config.json text with `id` added to eos_token_id (kept as an int when it is already that id, else
// a list: the previous ids in their order, then `id`), so that HF generate stops there too (a chat model's
// end-of-turn token, chat_metadata.h). Other keys are kept; "_from_model_config" is dropped, since the file no
// longer follows config.json. `origin` names the file in errors (eos_token_id not an int or a list of ints).
std::string generation_config_with_eos(const std::string& generation_json, int64_t id, const std::string& origin);

}  // namespace r1::model
