// `r1 info`, `r1 logits`, `r1 generate`: look at a model directory, score token sequences, and sample
// continuations — the model-side commands of the toolkit (tensor files in and out are safetensors).
//
//   r1 info MODEL_DIR                  architecture, parameter counts (total / activated per token / MTP),
//                                      checkpoint summary, config summary (reads only headers: works for
//                                      checkpoints too large to load)
//   r1 logits --model DIR --input IN.safetensors --output OUT.safetensors
//                                      IN: input_ids int64 [B, T], optional attention_mask [B, T];
//                                      OUT: logits fp32 [B, T, V], token_logprobs fp32 [B, T-1]
//   r1 generate --model DIR (--prompt TEXT | --input IN.safetensors) [--max-new-tokens N]
//              [--greedy | --temperature T --top-p P] [--output OUT.safetensors]
//                                      --input: left-padded input_ids (+ attention_mask); writes sequences
//                                      [B, T+N] (pad id after a row's end), logprobs [B, N], new_tokens [B];
//                                      --prompt: needs the tokenizer in DIR, prints the completion text.
//   r1 generate --model DIR (--chat MESSAGES_JSON | --chat-file ROWS.jsonl) [--chat-template NAME] [--tokens]
//                                      conversations through the chat template, stopping at its end of turn
//                                      (cli/generate_chat.h)
#include <CLI/CLI.hpp>
#include <ATen/core/grad_mode.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <set>

#include "cli/commands.h"
#include "cli/generate_chat.h"
#include "common/error.h"
#include "common/fs.h"
#include "model/causal_lm.h"
#include "model/generate.h"
#include "model/safetensors.h"
#include "model/tokenizer/tokenizer.h"

namespace r1::cli {
namespace {

using model::CausalLM;

at::ScalarType parse_dtype(const std::string& name) {
  if (name == "float32" || name == "fp32") return at::kFloat;
  if (name == "bfloat16" || name == "bf16") return at::kBFloat16;
  fail("--dtype: expected float32 or bfloat16, got '", name, "'");
}

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return out;
}

// input_ids [B, T] int64 and the optional attention_mask of an input file; errors name the file.
std::pair<at::Tensor, at::Tensor> read_inputs(const std::string& path) {
  model::Checkpoint f(path);
  R1_CHECK(f.contains("input_ids"), path, ": missing tensor 'input_ids' (int64 [B, T])");
  at::Tensor ids = f.load_checked("input_ids", "I64");
  R1_CHECK(ids.dim() == 2 && ids.size(0) > 0 && ids.size(1) > 0, path, ": tensor 'input_ids': expected shape [B, T], got ",
           ids.sizes());
  at::Tensor mask;
  if (f.contains("attention_mask")) {
    mask = f.load("attention_mask");
    R1_CHECK(mask.sizes() == ids.sizes(), path, ": tensor 'attention_mask': shape ", mask.sizes(),
             " does not match input_ids ", ids.sizes());
    R1_CHECK(!at::isFloatingType(mask.scalar_type()) || at::logical_or(mask == 0, mask == 1).all().item<bool>(), path,
             ": tensor 'attention_mask': values must be 0 or 1");
    mask = mask.to(at::kLong);
  }
  return {ids, mask};
}

void check_vocab(const at::Tensor& ids, int64_t vocab, const std::string& path) {
  const int64_t lo = ids.min().item<int64_t>(), hi = ids.max().item<int64_t>();
  R1_CHECK(lo >= 0 && hi < vocab, path, ": tensor 'input_ids': ids must lie in [0, ", vocab, ") (the model's vocab_size), found ",
           lo < 0 ? lo : hi);
}

void run_info(const std::string& dir) {
  R1_CHECK(is_directory(dir), "model directory '", dir, "' does not exist");
  model::ModelConfig config = model::ModelConfig::from_file(path_join(dir, "config.json"));
  model::Checkpoint ck(dir);
  const std::string mtp_probe = "model.layers." + std::to_string(config.num_hidden_layers) + ".eh_proj.weight";
  const bool has_mtp = config.num_nextn_predict_layers > 0 && ck.contains(mtp_probe);
  model::ParameterCounts pc = model::count_parameters(config, has_mtp);
  std::set<std::string> dtypes;
  uint64_t bytes = 0;
  for (const auto& n : ck.names()) {
    const auto& info = ck.info(n);
    dtypes.insert(info.dtype);
    bytes += info.end - info.begin;
  }
  std::string dtype_list;
  for (const auto& d : dtypes) dtype_list += (dtype_list.empty() ? "" : ", ") + d;
  std::printf("model:        %s\n", dir.c_str());
  std::printf("architecture: %s (%s)\n", config.architecture.c_str(), config.model_type.c_str());
  std::printf("parameters:   %s total, %s activated per token (%.1f%%), %s in embeddings%s\n",
              with_commas(pc.total).c_str(), with_commas(pc.activated).c_str(), 100.0 * pc.activated / pc.total,
              with_commas(pc.embedding).c_str(),
              config.tie_word_embeddings && !config.is_sequence_classifier() ? " (tied)" : "");
  if (config.num_nextn_predict_layers > 0) {
    if (has_mtp) {
      std::printf("MTP module:   %s parameters (layer %lld)\n", with_commas(pc.mtp).c_str(),
                  static_cast<long long>(config.num_hidden_layers));
    } else {
      std::printf("MTP module:   configured (num_nextn_predict_layers %lld) but no weights in the checkpoint\n",
                  static_cast<long long>(config.num_nextn_predict_layers));
    }
  }
  std::printf("checkpoint:   %zu tensors, %s, %.2f MB\n", ck.names().size(), dtype_list.c_str(), bytes / 1e6);
  const bool tok = path_exists(path_join(dir, "tokenizer.json")) || path_exists(path_join(dir, "tokenizer.model"));
  std::printf("tokenizer:    %s\n", tok ? "present" : "none");
  std::printf("config:       %s\n", config.summary().c_str());
}

void run_logits(const std::string& dir, const std::string& input, const std::string& output, const std::string& dtype) {
  auto m = CausalLM::load(dir, parse_dtype(dtype));
  auto [ids, mask] = read_inputs(input);
  check_vocab(ids, m->config().vocab_size, input);
  at::NoGradGuard no_grad;
  if (m->config().is_sequence_classifier()) {
    // A reward model / classifier: the score head at every position [B, T, L] and, as HF's
    // *ForSequenceClassification returns them, the scores at each row's last non-pad token [B, L].
    const at::Tensor per_token = m->logits(m->forward(ids, mask).hidden).contiguous();
    const at::Tensor scores = m->sequence_scores(ids, mask).contiguous();
    model::save_safetensors(output, {{"logits", per_token}, {"scores", scores}});
    std::fprintf(stderr, "wrote %s: logits [%lld, %lld, %lld] (score head per token), scores [%lld, %lld]\n",
                 output.c_str(), static_cast<long long>(per_token.size(0)), static_cast<long long>(per_token.size(1)),
                 static_cast<long long>(per_token.size(2)), static_cast<long long>(scores.size(0)),
                 static_cast<long long>(scores.size(1)));
    return;
  }
  at::Tensor logits = m->logits(m->forward(ids, mask).hidden).contiguous();  // [B, T, V] fp32
  const int64_t T = ids.size(1);
  at::Tensor lp = T > 1 ? at::log_softmax(logits.narrow(1, 0, T - 1), -1).gather(-1, ids.narrow(1, 1, T - 1).unsqueeze(-1)).squeeze(-1)
                        : at::zeros({ids.size(0), 0}, at::kFloat);  // [B, T-1]
  model::save_safetensors(output, {{"logits", logits}, {"token_logprobs", lp.contiguous()}});
  std::fprintf(stderr, "wrote %s: logits [%lld, %lld, %lld], token_logprobs [%lld, %lld]\n", output.c_str(),
               static_cast<long long>(logits.size(0)), static_cast<long long>(logits.size(1)),
               static_cast<long long>(logits.size(2)), static_cast<long long>(lp.size(0)), static_cast<long long>(lp.size(1)));
}

struct GenerateArgs {
  std::string model, prompt, input, output, dtype = "float32";
  int64_t max_new_tokens = 64, top_k = 0;
  bool greedy = false, raw_prompt = false;
  double temperature = 1.0, top_p = 1.0;
  uint64_t seed = 0;
  std::vector<std::string> stop;
  ChatRequest chat;
};

// Sampling settings and stop ids (the model's eos_token_id plus the tokenizer's eos) of `r1 generate`.
model::GenerationConfig generation_config(const GenerateArgs& a, const CausalLM& m, const model::Tokenizer* tok) {
  model::GenerationConfig g;
  g.max_new_tokens = a.max_new_tokens;
  g.greedy = a.greedy;
  g.temperature = a.temperature;
  g.top_p = a.top_p;
  g.top_k = a.top_k;
  g.seed = a.seed;
  g.eos_ids = m.config().eos_token_id;
  if (tok && tok->eos_id() && std::find(g.eos_ids.begin(), g.eos_ids.end(), *tok->eos_id()) == g.eos_ids.end())
    g.eos_ids.push_back(*tok->eos_id());
  g.stop_strings = a.stop;
  if (tok) {
    g.decode = [tok](const std::vector<int64_t>& ids) { return tok->decode(ids); };
    g.sample_vocab = std::min(tok->vocab_size(), m.config().vocab_size);  // never sample ids the tokenizer lacks
  }
  g.pad_id = m.config().pad_token_id.value_or(g.eos_ids.empty() ? 0 : g.eos_ids[0]);
  if (tok && tok->pad_id()) g.pad_id = *tok->pad_id();
  return g;
}

void run_generate(const GenerateArgs& a) {
  const bool chat = !a.chat.messages_json.empty() || !a.chat.file.empty();
  const int inputs = !a.prompt.empty() + !a.input.empty() + !a.chat.messages_json.empty() + !a.chat.file.empty();
  R1_CHECK(inputs == 1, "generate: give exactly one of --prompt, --input, --chat and --chat-file");
  R1_CHECK(chat || (a.chat.template_name.empty() && !a.chat.tokens),
           "generate: --chat-template and --tokens go with --chat or --chat-file");
  R1_CHECK(!chat || (a.output.empty() && !a.raw_prompt),
           "generate: --output and --raw-prompt go with --input / --prompt, not with --chat or --chat-file");
  auto m = CausalLM::load(a.model, parse_dtype(a.dtype));
  std::unique_ptr<model::Tokenizer> tok;
  const bool has_tok = path_exists(path_join(a.model, "tokenizer.json")) || path_exists(path_join(a.model, "tokenizer.model"));
  if (!a.prompt.empty() || chat) {
    R1_CHECK(has_tok, "generate ", chat ? "--chat" : "--prompt", ": no tokenizer (tokenizer.json or tokenizer.model) in ",
             a.model);
  }
  if (has_tok) tok = model::Tokenizer::load(a.model);
  R1_CHECK(a.stop.empty() || tok, "generate --stop: needs the tokenizer in the model directory");
  model::GenerationConfig g = generation_config(a, *m, tok.get());
  if (chat) {
    generate_chat(a.chat, *m, *tok, std::move(g));
    return;
  }
  const int64_t pad = g.pad_id;

  at::Tensor ids, mask;
  if (!a.input.empty()) {
    std::tie(ids, mask) = read_inputs(a.input);
    check_vocab(ids, m->config().vocab_size, a.input);
  } else {
    std::vector<int64_t> p = tok->encode(a.prompt, /*add_special_tokens=*/!a.raw_prompt);
    R1_CHECK(!p.empty(), "generate --prompt: the prompt encodes to no tokens");
    ids = at::tensor(p, at::kLong).unsqueeze(0);
  }
  auto res = model::generate(*m, ids, mask, g);

  const int64_t B = ids.size(0), T = ids.size(1), N = a.max_new_tokens;
  at::Tensor seq = at::full({B, T + N}, pad, at::kLong);
  seq.narrow(1, 0, T).copy_(ids);
  at::Tensor lps = at::zeros({B, N}, at::kFloat);
  at::Tensor lens = at::zeros({B}, at::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const auto& r = res[static_cast<size_t>(b)];
    for (size_t t = 0; t < r.tokens.size(); ++t) {
      seq[b][T + static_cast<int64_t>(t)] = r.tokens[t];
      lps[b][static_cast<int64_t>(t)] = r.logprobs[t];
    }
    lens[b] = static_cast<int64_t>(r.tokens.size());
  }
  if (!a.output.empty()) {
    model::save_safetensors(a.output, {{"sequences", seq}, {"logprobs", lps}, {"new_tokens", lens}});
    std::fprintf(stderr, "wrote %s: sequences [%lld, %lld]\n", a.output.c_str(), static_cast<long long>(B),
                 static_cast<long long>(T + N));
  }
  for (int64_t b = 0; b < B; ++b) {
    const auto& r = res[static_cast<size_t>(b)];
    if (!a.prompt.empty()) {
      std::cout << tok->decode(r.tokens) << "\n";
      std::fprintf(stderr, "[%zu tokens, finish: %s]\n", r.tokens.size(), model::finish_reason_name(r.finish));
    } else if (a.output.empty()) {
      std::cout << "{\"row\": " << b << ", \"finish\": \"" << model::finish_reason_name(r.finish) << "\", \"tokens\": [";
      for (size_t t = 0; t < r.tokens.size(); ++t) std::cout << (t ? ", " : "") << r.tokens[t];
      std::cout << "]}\n";
    }
  }
}

}  // namespace

void add_model_commands(CLI::App& app) {
  {
    auto* cmd = app.add_subcommand("info", "Architecture, parameter counts (total / activated per token) and config of a model directory");
    auto dir = std::make_shared<std::string>();
    cmd->add_option("MODEL_DIR", *dir, "HF model directory (config.json + safetensors)")->required();
    cmd->callback([dir] { run_info(*dir); });
  }
  {
    auto* cmd = app.add_subcommand("logits", "Write the logits and next-token log-probs of token sequences (a reward model: its scores)");
    struct Args {
      std::string model, input, output, dtype = "float32";
      int threads = 0;
    };
    auto a = std::make_shared<Args>();
    cmd->add_option("--model", a->model, "HF model directory")->required();
    cmd->add_option("--input", a->input, "safetensors with input_ids int64 [B, T] and optional attention_mask [B, T]")
        ->required();
    cmd->add_option("--output", a->output, "safetensors to write: logits fp32 [B, T, V], token_logprobs fp32 [B, T-1]")
        ->required();
    cmd->add_option("--dtype", a->dtype, "compute dtype: float32 | bfloat16");
    cmd->add_option("--threads", a->threads, "intra-op threads (0 = LibTorch default)");
    cmd->callback([a] {
      if (a->threads > 0) at::set_num_threads(a->threads);
      run_logits(a->model, a->input, a->output, a->dtype);
    });
  }
  {
    auto* cmd = app.add_subcommand("generate", "Sample continuations with a KV cache (batched, left-padded), or "
                                     "answers to conversations through the model's chat template (--chat)");
    auto a = std::make_shared<GenerateArgs>();
    auto threads = std::make_shared<int>(0);
    cmd->add_option("--model", a->model, "HF model directory")->required();
    auto* prompt = cmd->add_option("--prompt", a->prompt, "prompt text (needs the tokenizer in the model directory)");
    auto* input = cmd->add_option("--input", a->input, "safetensors with left-padded input_ids [B, T] (+ attention_mask)");
    prompt->excludes(input);
    cmd->add_option("--chat", a->chat.messages_json,
                    "a conversation as a JSON list of {\"role\": system|user|assistant, \"content\"} messages: the "
                    "model's chat template is applied with the generation prompt, generation stops at the template's "
                    "end-of-turn token, the assistant's text is printed");
    cmd->add_option("--chat-file", a->chat.file,
                    "JSONL of {\"messages\": [...]} rows (one batch): prints {\"row\", \"text\", \"finish\"} per row");
    cmd->add_option("--chat-template", a->chat.template_name,
                    "with --chat / --chat-file: a built-in template (deepseek-r1, deepseek-v3, qwen, chatml, llama3, "
                    "llama3.1) instead of the model's (\"\" = the model's tokenizer_config.json chat_template)");
    cmd->add_flag("--tokens", a->chat.tokens,
                  "with --chat / --chat-file: print JSON lines with the generated ids (\"tokens\", the end-of-turn "
                  "token included)");
    cmd->add_option("--max-new-tokens", a->max_new_tokens, "tokens to generate per row at most");
    auto* greedy = cmd->add_flag("--greedy", a->greedy, "argmax decoding");
    cmd->add_option("--temperature", a->temperature, "sampling temperature")->excludes(greedy);
    cmd->add_option("--top-p", a->top_p, "nucleus sampling mass")->excludes(greedy);
    cmd->add_option("--top-k", a->top_k, "sample among the k most likely tokens (0 = off)")->excludes(greedy);
    cmd->add_option("--seed", a->seed, "sampling seed (same seed, same output)");
    cmd->add_option("--stop", a->stop, "stop string (repeatable; needs the tokenizer)");
    cmd->add_flag("--raw-prompt", a->raw_prompt, "do not add the tokenizer's special tokens (e.g. BOS) to --prompt");
    cmd->add_option("--output", a->output, "safetensors to write: sequences [B, T+N], logprobs [B, N], new_tokens [B]");
    cmd->add_option("--dtype", a->dtype, "compute dtype: float32 | bfloat16");
    cmd->add_option("--threads", *threads, "intra-op threads (0 = LibTorch default)");
    cmd->callback([a, threads] {
      if (*threads > 0) at::set_num_threads(*threads);
      run_generate(*a);
    });
  }
}

}  // namespace r1::cli
