// See policy.h.
#include "rl/policy.h"

#include <algorithm>
#include <filesystem>

#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/impl/DeviceGuardImplInterface.h>

#include "common/error.h"
#include "common/fs.h"
#include "model/config.h"
#include "model/tokenizer/chat_template.h"
#include "rl/stage.h"

namespace r1::rl {

void ModelSource::validate(const std::string& where) const {
  R1_CHECK(path.empty() != init_config.empty(), where,
           ": model: give exactly one of 'path' (an HF directory or stage:NAME) and 'init_config'");
  R1_CHECK(byte_level_tokenizer.empty() || tokenizer.empty(), where,
           ": model: 'byte_level_tokenizer' and 'tokenizer' are mutually exclusive");
  R1_CHECK(!init_config.empty() || byte_level_tokenizer.empty(), where,
           ": model: 'byte_level_tokenizer' only goes with 'init_config' (a loaded model has its tokenizer)");
  R1_CHECK(init_config.empty() || !byte_level_tokenizer.empty() || !tokenizer.empty(), where,
           ": model: 'init_config' needs 'tokenizer' (a directory, file or stage:NAME) or 'byte_level_tokenizer'");
  dtype_from_name(dtype, where + ": model.dtype");
  device_from_name(device, where + ": model.device");  // a device this machine lacks fails before any stage runs
}

at::ScalarType dtype_from_name(const std::string& name, const std::string& where) {
  if (name == "float32" || name == "fp32") return at::kFloat;
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  fail(where, ": unknown dtype '", name, "' (expected float32 or bfloat16)");
}

std::unique_ptr<model::Tokenizer> ModelSource::tokenizer_if_available() const {
  if (!byte_level_tokenizer.empty()) {
    return model::Tokenizer::from_tokenizer_json(model::make_byte_level_tokenizer_json(byte_level_tokenizer),
                                                 "model.byte_level_tokenizer");
  }
  const std::string& from = !tokenizer.empty() ? tokenizer : path;
  if (from.empty() || from.rfind("stage:", 0) == 0 || !path_exists(from)) return nullptr;
  return model::Tokenizer::load(from);
}

void check_chat_template(const std::string& name, const ModelSource& model, const std::string& where) {
  try {
    if (!name.empty() && name != "auto") model::ChatTemplate::by_name(name);  // unknown names throw
    if (auto tok = model.tokenizer_if_available()) model::ChatTemplate::resolve(name, *tok);
  } catch (const Error& e) {
    fail(where, ": chat_template '", name, "': ", e.what());
  }
}

at::Device device_from_name(const std::string& name, const std::string& where) {
  const bool cuda_build = at::hasCUDA();
  const int64_t gpus = cuda_build ? static_cast<int64_t>(at::detail::getCUDAHooks().getNumGPUs()) : 0;
  if (name == "cpu" || (name == "auto" && gpus == 0)) return at::Device(at::kCPU);
  if (name == "auto") return at::Device(at::kCUDA, 0);
  if ((name == "privateuseone" || name == "privateuseone:0") &&
      c10::impl::hasDeviceGuardImpl(c10::DeviceType::PrivateUse1)) {
    return at::Device(c10::DeviceType::PrivateUse1, 0);  // an out-of-tree backend registered in this process
  }
  R1_CHECK(name == "cuda" || name.rfind("cuda:", 0) == 0, where, ": unknown device '", name,
           "' (expected auto, cpu, cuda or cuda:N)");
  R1_CHECK(cuda_build, where, ": device '", name, "', but this r1 was built without CUDA (a CPU LibTorch); build with "
           "-DR1_CUDA=ON against a CUDA LibTorch (docs/kernels.md), or use device cpu");
  R1_CHECK(gpus > 0, where, ": device '", name, "', but no CUDA device is visible (driver, CUDA_VISIBLE_DEVICES?)");
  int64_t index = 0;
  if (name.size() > 5) {
    const std::string digits = name.substr(5);
    R1_CHECK(!digits.empty() && digits.find_first_not_of("0123456789") == std::string::npos, where,
             ": device '", name, "': expected cuda:N with N a device number");
    index = std::stoll(digits);
  }
  R1_CHECK(index < gpus, where, ": device '", name, "', but this machine has ", gpus, " CUDA device(s)");
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(index));
}

Policy load_policy(const ModelSource& source, const StageContext& ctx, const std::string& where) {
  Policy p;
  const at::ScalarType dtype = dtype_from_name(source.dtype, where);
  const at::Device device = device_from_name(source.device, where + ": model.device");
  std::string tokenizer_path;
  if (!source.path.empty()) {
    const std::string dir = ctx.resolve_ref(source.path);
    R1_CHECK(is_directory(dir), where, ": model.path '", dir, "' is not a directory");
    p.model = model::CausalLM::load(dir, dtype, device);
    tokenizer_path = source.tokenizer.empty() ? dir : ctx.resolve_ref(source.tokenizer);
  } else {
    model::ModelConfig config = model::ModelConfig::from_json(source.init_config.text, where + ": model.init_config");
    p.model = model::CausalLM::init_random(config, ctx.seed, dtype, device);
    if (!source.byte_level_tokenizer.empty()) {
      tokenizer_path = path_join(ctx.dir, "tokenizer");
      if (ctx.run.writer()) {  // rank 0 writes it; the others read it once it is there
        make_dirs(tokenizer_path);
        write_file_atomic(path_join(tokenizer_path, "tokenizer.json"),
                          model::make_byte_level_tokenizer_json(source.byte_level_tokenizer));
      }
      ctx.world.barrier();
    } else {
      R1_CHECK(!source.tokenizer.empty(), where, ": model: a model made from init_config needs 'tokenizer' or "
               "'byte_level_tokenizer'");
      tokenizer_path = ctx.resolve_ref(source.tokenizer);
    }
  }
  p.tokenizer = model::Tokenizer::load(tokenizer_path);
  p.tokenizer_dir = tokenizer_path;
  if (!is_directory(tokenizer_path)) {
    // Checkpoints carry the tokenizer by copying its directory's files (model/tokenizer/tokenizer.h), which finds a
    // tokenizer only under its standard names.
    const std::filesystem::path file(tokenizer_path);
    R1_CHECK(file.filename() == "tokenizer.json" || file.filename() == "tokenizer.model", where,
             ": model: tokenizer file '", tokenizer_path, "' would not be copied into checkpoints; rename it ",
             "tokenizer.json / tokenizer.model or give its directory");
    p.tokenizer_dir = file.has_parent_path() ? file.parent_path().string() : ".";
  }
  R1_CHECK(p.tokenizer->vocab_size() <= p.model->config().vocab_size, where, ": ",
           source.path.empty() ? "key 'model.init_config.vocab_size'" : "the model's config.json vocab_size", " (",
           p.model->config().vocab_size, ") is smaller than the tokenizer's ", p.tokenizer->vocab_size(), " tokens (",
           tokenizer_path, ")");
  return p;
}

std::vector<int64_t> stop_token_ids(const Policy& policy) {
  std::vector<int64_t> ids = policy.model->config().eos_token_id;
  if (auto eos = policy.tokenizer->eos_id()) ids.push_back(*eos);
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace r1::rl
