// `r1 bench rollout`: rollout throughput of random-weight models of real shapes on the current device —
// batched sampling with the KV cache through model::generate, the engine GRPO's rollouts run on. Defaults
// are the comparison with HF transformers' generate: batch 64, prompt 128 tokens, 256 new tokens,
// for Qwen2.5-0.5B (recipes/models/qwen2.5-0.5b.json) and DeepSeek-V2-Lite cut to 8 layers
// (recipes/models/deepseek-v2-lite.json:8), bf16 on a GPU. scripts/hf_rollout_bench.py runs HF on the same
// config files and sizes, so both figures come from the same machine.
//
// What is measured, per model (after one untimed warm-up generate of --warmup-tokens tokens):
//   total    wall time of generate(batch, prompt, new tokens), median of --repeat calls;
//   prefill  the same call with one new token (the prompt's forward and the first sample), median;
//   decode   total − prefill: the remaining new-1 steps;
//   tokens/s batch·new / total (prefill included, as HF's figure is); decode tokens/s batch·(new−1) / decode.
// generate() copies each step's tokens to the host, so a returned call has finished on the device and a
// host clock is a fair timer. EOS is not a stop (no eos ids), so every row makes exactly --new-tokens
// tokens; the command checks that. Random weights: the text is noise; this measures the machinery.
// Variants (--variant, repeatable; default eager on the CPU, eager + graph + fp8-graph on CUDA): the
// generation engine's options, named [fp8-][paged-](eager|static|graph): fp8 = the FP8 rollout copy of the
// weights (model/causal_lm.h), paged = the paged MLA decode kernel's cache layout (MLA models), and the
// decode loop (model/generate.h: eager forward_cached; static capture-ready decode_step; graph = that step
// in a CUDA graph). A variant a model cannot run (graph on the CPU, static/graph with dense MoE experts,
// paged without MLA) is skipped with a line on stderr.
// Nothing here is a test; figures go to BENCHMARKS.md with the exact command.
//
// Letters: B batch rows, T prompt tokens, N new tokens, V vocab.
#include <CLI/CLI.hpp>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/bench_stats.h"
#include "cli/commands.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "kernels/cuda_support.h"
#include "model/causal_lm.h"
#include "model/config.h"
#include "model/generate.h"

namespace r1::cli {
namespace {

struct RolloutArgs {
  std::vector<std::string> models = {"recipes/models/qwen2.5-0.5b.json", "recipes/models/deepseek-v2-lite.json:8"};
  std::vector<std::string> variants;  // empty: eager on the CPU; eager, graph, fp8-graph on CUDA
  std::string device = "auto", dtype = "auto";
  int64_t batch = 64, prompt_len = 128, new_tokens = 256, warmup_tokens = 8;
  int repeat = 2, threads = 0;
  uint64_t seed = 1;
  bool greedy = false, json = false;
};

// One way of running the generation engine (see the file comment).
struct Variant {
  std::string name;
  bool fp8 = false, paged = false;
  model::DecodeLoop loop = model::DecodeLoop::kEager;
};

Variant parse_variant(const std::string& name) {
  Variant v;
  v.name = name;
  std::string rest = name;
  auto take = [&rest](const std::string& prefix) {
    if (rest.rfind(prefix, 0) != 0) return false;
    rest = rest.substr(prefix.size());
    return true;
  };
  v.fp8 = take("fp8-");
  v.paged = take("paged-");
  if (rest == "eager") v.loop = model::DecodeLoop::kEager;
  else if (rest == "static") v.loop = model::DecodeLoop::kStatic;
  else if (rest == "graph") v.loop = model::DecodeLoop::kCudaGraph;
  else fail("r1 bench rollout: --variant '", name, "': expected [fp8-][paged-](eager|static|graph), e.g. fp8-graph");
  return v;
}

// Why `v` cannot run on this model and device ("" when it can).
std::string variant_unsupported(const Variant& v, const model::ModelConfig& config, const at::Device& device) {
  if (v.loop == model::DecodeLoop::kCudaGraph && !device.is_cuda()) return "CUDA graphs need a CUDA device";
  if (v.loop != model::DecodeLoop::kEager && config.has_moe() && !v.fp8) {
    return "the static and graph loops need the MoE experts on the FP8 copy (fp8-...)";
  }
  if (v.paged && !config.is_mla()) return "paged is the MLA cache layout";
  return "";
}

struct RolloutResult {
  std::string spec, name, variant;
  int64_t layers = 0;
  model::ParameterCounts params;
  double init_s = 0, prefill_s = 0, total_s = 0;
};

// "path.json" or "path.json:8" (the config with num_hidden_layers overridden) → {path, layers or 0}.
std::pair<std::string, int64_t> parse_model_spec(const std::string& spec) {
  const size_t colon = spec.rfind(':');
  if (colon == std::string::npos || spec.find('/', colon) != std::string::npos) return {spec, 0};
  const std::string layers = spec.substr(colon + 1);
  size_t used = 0;
  int64_t n = 0;
  try {
    n = std::stoll(layers, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  R1_CHECK(used == layers.size() && n > 0, "r1 bench rollout: --model '", spec,
           "': expected CONFIG.json or CONFIG.json:LAYERS with LAYERS a positive integer");
  return {spec.substr(0, colon), n};
}

// The config file with num_hidden_layers set to `layers` (0: as written); per-layer lists (layer_types)
// are cut or extended with their last entry so they keep one entry per layer.
model::ModelConfig load_config(const std::string& path, int64_t layers) {
  R1_CHECK(path_exists(path), "r1 bench rollout: config file '", path, "' does not exist (run from the repository root or give a path)");
  json::Document doc = json::parse_file(path);
  R1_CHECK(doc.IsObject(), path, ": expected a JSON object (an HF config.json)");
  if (layers > 0) {
    json::set_member(doc, doc, "num_hidden_layers", json::Value(layers));
    for (const char* key : {"layer_types", "mlp_layer_types"}) {
      json::Value* list = json::find(doc, key) ? &doc[key] : nullptr;
      if (list == nullptr || !list->IsArray() || list->Empty()) continue;
      json::Value last(list->Begin()[list->Size() - 1], doc.GetAllocator());
      while (static_cast<int64_t>(list->Size()) > layers) list->PopBack();
      while (static_cast<int64_t>(list->Size()) < layers) list->PushBack(json::Value(last, doc.GetAllocator()), doc.GetAllocator());
    }
  }
  return model::ModelConfig::from_json(json::dump(doc), path);
}

// "recipes/models/qwen2.5-0.5b.json" → "qwen2.5-0.5b"; ".../qwen2_tiny/config.json:2" → "qwen2_tiny:2" (as
// scripts/hf_rollout_bench.py names them, so the session can pair the two reports).
std::string model_name(const std::string& path, int64_t layers) {
  std::string dir = path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  std::string base = path.substr(path.find_last_of('/') + 1);
  if (base == "config.json" && !dir.empty()) base = dir.substr(dir.find_last_of('/') + 1);
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".json") == 0) base.resize(base.size() - 5);
  return layers > 0 ? base + ":" + std::to_string(layers) : base;
}

at::Device pick_device(const std::string& name) {
  if (name == "cpu") return at::kCPU;
  const bool cuda = at::hasCUDA();
  if (name == "auto") return cuda ? at::Device(at::kCUDA) : at::Device(at::kCPU);
  R1_CHECK(name == "cuda", "r1 bench rollout: --device: expected auto, cpu or cuda, got '", name, "'");
  R1_CHECK(cuda, "r1 bench rollout: --device cuda: LibTorch sees no CUDA device (",
           kernels::cuda_kernels_status(), ")");
  return at::kCUDA;
}

at::ScalarType pick_dtype(const std::string& name, const at::Device& device) {
  if (name == "auto") return device.is_cuda() ? at::kBFloat16 : at::kFloat;
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  if (name == "float32" || name == "fp32") return at::kFloat;
  fail("r1 bench rollout: --dtype: expected auto, bfloat16 or float32, got '", name, "'");
}

double seconds(const std::function<void()>& fn) {
  const auto t0 = std::chrono::steady_clock::now();
  fn();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// One generate call of `new_tokens` tokens; checks that no row stopped early.
void generate_exactly(const model::CausalLM& m, const at::Tensor& prompts, int64_t new_tokens, const RolloutArgs& a,
                      const Variant& v) {
  model::GenerationConfig g;
  g.decode_loop = v.loop;
  g.max_new_tokens = new_tokens;
  g.greedy = a.greedy;
  g.temperature = 1.0;
  g.seed = a.seed;  // eos_ids stays empty: rows never stop before new_tokens
  const auto rows = model::generate(m, prompts, {}, g);
  for (size_t i = 0; i < rows.size(); ++i) {
    R1_CHECK(static_cast<int64_t>(rows[i].tokens.size()) == new_tokens, "r1 bench rollout: row ", i, " generated ",
             rows[i].tokens.size(), " tokens instead of ", new_tokens);
  }
}

// Times `v` on an initialised model (the FP8 copy and MLA cache mode set for it, and reset after).
RolloutResult bench_variant(model::CausalLM& m, const at::Tensor& prompts, const RolloutArgs& a, const Variant& v,
                            RolloutResult r) {
  r.variant = v.name;
  if (v.fp8) m.make_rollout_copy(model::WeightFormat::kFp8);
  if (m.config().is_mla()) {
    m.set_mla_modes(model::MlaMode::kNaive, v.paged ? model::MlaMode::kPaged : model::MlaMode::kAbsorbed);
  }
  if (a.warmup_tokens > 0) generate_exactly(m, prompts, a.warmup_tokens, a, v);
  std::vector<double> prefill, total;
  for (int i = 0; i < a.repeat; ++i) {
    prefill.push_back(seconds([&] { generate_exactly(m, prompts, 1, a, v); }));
    total.push_back(seconds([&] { generate_exactly(m, prompts, a.new_tokens, a, v); }));
  }
  r.prefill_s = median(prefill);
  r.total_s = median(total);
  if (v.fp8) m.make_rollout_copy(model::WeightFormat::kDense);
  if (m.config().is_mla()) m.set_mla_modes(model::MlaMode::kNaive, model::MlaMode::kAbsorbed);
  return r;
}

std::vector<RolloutResult> bench_model(const std::string& spec, const RolloutArgs& a, const std::vector<Variant>& variants,
                                       at::Device device, at::ScalarType dtype) {
  RolloutResult base;
  base.spec = spec;
  const auto [path, layers] = parse_model_spec(spec);
  const model::ModelConfig config = load_config(path, layers);
  base.layers = config.num_hidden_layers;
  base.name = model_name(path, layers);
  std::fprintf(stderr, "r1 bench rollout: %s (%s, %lld layers) on %s\n", base.name.c_str(),
               config.architecture.c_str(), static_cast<long long>(base.layers), device.str().c_str());
  std::unique_ptr<model::CausalLM> m;
  base.init_s = seconds([&] { m = model::CausalLM::init_random(config, a.seed, dtype, device); });
  base.params = m->parameter_counts();
  at::Generator gen = at::detail::createCPUGenerator(a.seed + 1);
  const at::Tensor prompts = at::randint(0, config.vocab_size, {a.batch, a.prompt_len}, gen, at::kLong);  // [B, T]
  std::vector<RolloutResult> out;
  for (const Variant& v : variants) {
    const std::string why = variant_unsupported(v, config, device);
    if (!why.empty()) {
      std::fprintf(stderr, "r1 bench rollout: %s: variant %s skipped: %s\n", base.name.c_str(), v.name.c_str(),
                   why.c_str());
      continue;
    }
    std::fprintf(stderr, "r1 bench rollout: %s: variant %s\n", base.name.c_str(), v.name.c_str());
    out.push_back(bench_variant(*m, prompts, a, v, base));
  }
  return out;
}

void print_table(const std::vector<RolloutResult>& results, const RolloutArgs& a, const std::string& where,
                 at::ScalarType dtype) {
  std::printf("r1 bench rollout on %s, %s, threads %d: batch %lld, prompt %lld, new %lld (no EOS), %s, median of %d "
              "after a %lld-token warm-up\n\n",
              where.c_str(), c10::toString(dtype), at::get_num_threads(), static_cast<long long>(a.batch),
              static_cast<long long>(a.prompt_len), static_cast<long long>(a.new_tokens),
              a.greedy ? "greedy" : "sampled at temperature 1", a.repeat, static_cast<long long>(a.warmup_tokens));
  std::printf("| model | variant | layers | parameters | init s | prefill s | decode s | total s | tokens/s | "
              "decode tokens/s | ms/decode step |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (const auto& r : results) {
    const double decode_s = r.total_s - r.prefill_s;
    const double steps = static_cast<double>(a.new_tokens - 1);
    std::printf("| %s | %s | %lld | %.1fM (%.1fM act.) | %.2f | %.3f | %.3f | %.3f | %.0f | %.0f | %.2f |\n",
                r.name.c_str(), r.variant.c_str(), static_cast<long long>(r.layers), r.params.total / 1e6, r.params.activated / 1e6, r.init_s, r.prefill_s,
                decode_s, r.total_s, a.batch * a.new_tokens / r.total_s,
                steps > 0 && decode_s > 0 ? a.batch * steps / decode_s : 0.0,
                steps > 0 ? 1e3 * decode_s / steps : 0.0);
  }
  std::printf("\ntokens/s = batch x new tokens / total (prefill included); prefill = a 1-token generate; decode = "
              "total - prefill over new-1 steps.\n");
}

void print_json(const std::vector<RolloutResult>& results, const RolloutArgs& a, const std::string& where,
                at::ScalarType dtype) {
  json::Document doc(rapidjson::kObjectType);
  auto& al = doc.GetAllocator();
  doc.AddMember("engine", json::Value("r1"), al);
  doc.AddMember("device", json::Value(where.c_str(), al), al);
  doc.AddMember("dtype", json::Value(c10::toString(dtype), al), al);
  doc.AddMember("batch", json::Value(a.batch), al);
  doc.AddMember("prompt_len", json::Value(a.prompt_len), al);
  doc.AddMember("new_tokens", json::Value(a.new_tokens), al);
  doc.AddMember("repeat", json::Value(a.repeat), al);
  json::Value list(rapidjson::kArrayType);
  for (const auto& r : results) {
    json::Value o(rapidjson::kObjectType);
    const double decode_s = r.total_s - r.prefill_s;
    o.AddMember("model", json::Value(r.name.c_str(), al), al);
    o.AddMember("variant", json::Value(r.variant.c_str(), al), al);
    o.AddMember("spec", json::Value(r.spec.c_str(), al), al);
    o.AddMember("layers", json::Value(r.layers), al);
    o.AddMember("parameters", json::Value(r.params.total), al);
    o.AddMember("active_parameters", json::Value(r.params.activated), al);
    o.AddMember("generated_tokens", json::Value(a.batch * a.new_tokens), al);
    o.AddMember("init_s", json::Value(r.init_s), al);
    o.AddMember("prefill_s", json::Value(r.prefill_s), al);
    o.AddMember("decode_s", json::Value(decode_s), al);
    o.AddMember("total_s", json::Value(r.total_s), al);
    o.AddMember("tokens_per_s", json::Value(a.batch * a.new_tokens / r.total_s), al);
    o.AddMember("decode_tokens_per_s",
                json::Value(a.new_tokens > 1 && decode_s > 0 ? a.batch * (a.new_tokens - 1) / decode_s : 0.0), al);
    list.PushBack(o, al);
  }
  doc.AddMember("results", list, al);
  std::printf("%s\n", json::dump(doc, true).c_str());
}

void run_rollout_bench(const RolloutArgs& a) {
  R1_CHECK(!a.models.empty(), "r1 bench rollout: no --model given");
  R1_CHECK(a.batch > 0 && a.prompt_len > 0 && a.new_tokens > 0, "r1 bench rollout: --batch, --prompt-len and "
           "--new-tokens must be positive");
  R1_CHECK(a.repeat > 0 && a.warmup_tokens >= 0, "r1 bench rollout: --repeat must be positive, --warmup-tokens >= 0");
  if (a.threads > 0) at::set_num_threads(a.threads);
  const at::Device device = pick_device(a.device);
  const at::ScalarType dtype = pick_dtype(a.dtype, device);
  const std::string where = device.is_cuda() ? kernels::cuda_kernels_status() : std::string("cpu");
  std::vector<std::string> names = a.variants;
  if (names.empty()) names = device.is_cuda() ? std::vector<std::string>{"eager", "graph", "fp8-graph"}
                                              : std::vector<std::string>{"eager"};
  std::vector<Variant> variants;
  for (const auto& n : names) variants.push_back(parse_variant(n));
  std::vector<RolloutResult> results;
  for (const auto& spec : a.models) {
    for (auto& r : bench_model(spec, a, variants, device, dtype)) results.push_back(std::move(r));
  }
  R1_CHECK(!results.empty(), "r1 bench rollout: no variant could run on any model (see the lines above)");
  if (a.json) print_json(results, a, where, dtype);
  else print_table(results, a, where, dtype);
}

}  // namespace

void add_rollout_bench_commands(CLI::App& bench) {
  auto a = std::make_shared<RolloutArgs>();
  CLI::App* cmd = bench.add_subcommand(
      "rollout", "Rollout tokens/s (batched sampling with the KV cache, prefill/decode split) of random-weight models "
                 "of real shapes on the current device; compare with scripts/hf_rollout_bench.py");
  cmd->add_option("--model", a->models,
                  "HF config.json of a shape, optionally with :LAYERS to override num_hidden_layers (repeatable)");
  cmd->add_option("--variant", a->variants,
                  "engine variant [fp8-][paged-](eager|static|graph), repeatable (default: eager on the CPU; eager, "
                  "graph, fp8-graph on CUDA)");
  cmd->add_option("--device", a->device, "auto (cuda when LibTorch sees a GPU) | cpu | cuda");
  cmd->add_option("--dtype", a->dtype, "auto (bfloat16 on cuda, float32 on cpu) | bfloat16 | float32");
  cmd->add_option("--batch", a->batch, "rows generated together");
  cmd->add_option("--prompt-len", a->prompt_len, "prompt tokens per row (random ids)");
  cmd->add_option("--new-tokens", a->new_tokens, "new tokens per row (EOS never stops a row)");
  cmd->add_option("--repeat", a->repeat, "timed calls of each kind (the median is reported)");
  cmd->add_option("--warmup-tokens", a->warmup_tokens, "new tokens of the untimed warm-up call (0: none)");
  cmd->add_option("--seed", a->seed, "seed of the weights, prompts and sampling");
  cmd->add_flag("--greedy", a->greedy, "argmax decoding instead of sampling at temperature 1");
  cmd->add_option("--threads", a->threads, "LibTorch intra-op threads (0 = LibTorch default)");
  cmd->add_flag("--json", a->json, "print the results as JSON instead of a table");
  cmd->callback([a] { run_rollout_bench(*a); });
}

}  // namespace r1::cli
