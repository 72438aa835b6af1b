// See generate.h.
#include "model/generate.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <limits>
#include <set>

#include "common/error.h"

namespace r1::model {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kEos:
      return "eos";
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kLength:
      return "length";
  }
  return "?";
}

at::Tensor select_tokens(const at::Tensor& logits_in, const GenerationConfig& cfg, const at::Tensor& uniforms) {
  const int64_t V = logits_in.size(-1);
  at::Tensor logits = logits_in;
  if (cfg.sample_vocab > 0 && cfg.sample_vocab < V) {
    logits = logits.clone();
    logits.narrow(1, cfg.sample_vocab, V - cfg.sample_vocab).fill_(-std::numeric_limits<float>::infinity());
  }
  if (cfg.greedy || cfg.temperature == 0.0) return logits.argmax(-1);
  at::Tensor l = cfg.temperature == 1.0 ? logits : logits / cfg.temperature;  // [B, V]
  at::Tensor target_u = uniforms.to(l.device()).to(at::kFloat).unsqueeze(1);  // [B, 1]
  // Inverse CDF: the first candidate whose cumulative mass exceeds u * total.
  auto pick = [&](const at::Tensor& probs) {  // [B, C] → [B] candidate index
    at::Tensor cdf = probs.cumsum(-1);
    at::Tensor target = target_u * cdf.narrow(1, cdf.size(1) - 1, 1);
    return (cdf <= target).sum(-1).clamp_max(cdf.size(1) - 1);
  };
  if (cfg.top_k == 0 && cfg.top_p >= 1.0) {  // plain sampling: no sort over the vocabulary
    return pick(at::softmax(l, -1));
  }
  at::Tensor probs, order;  // candidates in descending order: [B, C]
  if (cfg.top_k > 0 && cfg.top_k < V) {
    auto top = l.topk(cfg.top_k, -1);  // sorted; softmax over the k survivors = the masked full softmax
    probs = at::softmax(std::get<0>(top), -1);
    order = std::get<1>(top);
  } else {
    auto sorted = at::softmax(l, -1).sort(-1, /*descending=*/true);
    probs = std::get<0>(sorted);
    order = std::get<1>(sorted);
  }
  if (cfg.top_p < 1.0) {
    at::Tensor mass_before = probs.cumsum(-1) - probs;  // [B, C]
    probs = probs.masked_fill(mass_before >= cfg.top_p, 0.0);
  }
  return order.gather(1, pick(probs).unsqueeze(1)).squeeze(1);
}

namespace {

void check_config(const GenerationConfig& c) {
  R1_CHECK(c.max_new_tokens >= 0, "generate: max_new_tokens must be >= 0, got ", c.max_new_tokens);
  R1_CHECK(c.temperature >= 0.0, "generate: temperature must be >= 0, got ", c.temperature);
  R1_CHECK(c.top_p > 0.0 && c.top_p <= 1.0, "generate: top_p must be in (0, 1], got ", c.top_p);
  R1_CHECK(c.top_k >= 0, "generate: top_k must be >= 0, got ", c.top_k);
  R1_CHECK(c.sample_vocab >= 0, "generate: sample_vocab must be >= 0, got ", c.sample_vocab);
  R1_CHECK(c.stop_strings.empty() || c.decode, "generate: stop strings need a decode function (a tokenizer)");
  for (const auto& s : c.stop_strings) R1_CHECK(!s.empty(), "generate: empty stop string");
}

}  // namespace

std::vector<GenerationResult> generate(const CausalLM& model, const at::Tensor& input_ids,
                                       const at::Tensor& attention_mask, const GenerationConfig& cfg) {
  check_config(cfg);
  R1_CHECK(input_ids.defined() && input_ids.dim() == 2 && input_ids.scalar_type() == at::kLong,
           "generate: input_ids must be an int64 [B, T] tensor");
  const int64_t B = input_ids.size(0), T = input_ids.size(1);
  R1_CHECK(B > 0 && T > 0, "generate: empty input_ids ", input_ids.sizes());
  const int64_t V = model.config().vocab_size;
  R1_CHECK(input_ids.min().item<int64_t>() >= 0 && input_ids.max().item<int64_t>() < V,
           "generate: token ids must lie in [0, ", V, ")");
  R1_CHECK(!model.rollout_copy_stale(), "generate: the model's rollout copy is stale (a weight it was quantised "
           "from has changed); call refresh_rollout_copy() after each optimizer step");
  c10::InferenceMode inference;
  const at::Device dev = model.device();
  at::Tensor ids = input_ids.to(dev);
  at::Tensor mask = attention_mask.defined() ? attention_mask.to(dev).to(at::kLong) : at::ones_like(ids);
  R1_CHECK(mask.sizes() == ids.sizes(), "generate: attention_mask has shape ", mask.sizes(), ", expected ", ids.sizes());
  R1_CHECK(mask.select(1, T - 1).min().item<int64_t>() == 1,
           "generate: prompts must be left-padded (the last position of every row must be a real token)");

  std::vector<GenerationResult> results(static_cast<size_t>(B));
  if (cfg.max_new_tokens == 0) return results;
  const std::set<int64_t> eos(cfg.eos_ids.begin(), cfg.eos_ids.end());
  size_t stop_window = 32;
  for (const auto& s : cfg.stop_strings) stop_window = std::max(stop_window, 4 * s.size());

  KVCache cache = model.new_cache(B, T + cfg.max_new_tokens);
  at::Tensor positions = (mask.cumsum(1) - 1).clamp_min(0);                      // [B, T]
  at::Tensor hidden = model.forward_cached(ids, positions, mask, cache);          // [B, T, H]
  at::Tensor logits = model.logits(hidden.select(1, T - 1));                     // [B, V]
  at::Tensor next_pos = positions.select(1, T - 1) + 1;                          // [B]

  std::vector<int64_t> active(static_cast<size_t>(B));  // original row of each batch slot
  for (int64_t i = 0; i < B; ++i) active[static_cast<size_t>(i)] = i;
  std::vector<bool> done(static_cast<size_t>(B), false);  // per batch slot: finished but not yet compacted away
  at::Generator gen = at::detail::createCPUGenerator(cfg.seed);
  const bool sampling = !(cfg.greedy || cfg.temperature == 0.0);

  for (int64_t step = 0; step < cfg.max_new_tokens; ++step) {
    at::Tensor uniforms;
    if (sampling) {
      at::Tensor all = at::rand({B}, gen, at::TensorOptions().dtype(at::kFloat));  // one per original row
      at::Tensor rows = at::tensor(active, at::TensorOptions().dtype(at::kLong));
      uniforms = all.index_select(0, rows);
    }
    at::Tensor tok = select_tokens(logits, cfg, uniforms);                        // [Ba]
    at::Tensor lp = at::log_softmax(logits, -1).gather(1, tok.unsqueeze(1)).squeeze(1);  // [Ba]
    at::Tensor tok_cpu = tok.to(at::kCPU), lp_cpu = lp.to(at::kCPU).to(at::kFloat);
    const int64_t* tk = tok_cpu.data_ptr<int64_t>();
    const float* lk = lp_cpu.data_ptr<float>();
    size_t n_done = 0;
    for (size_t j = 0; j < active.size(); ++j) {
      if (done[j]) {
        ++n_done;
        continue;
      }
      GenerationResult& r = results[static_cast<size_t>(active[j])];
      r.tokens.push_back(tk[j]);
      r.logprobs.push_back(lk[j]);
      if (eos.count(tk[j])) {
        r.finish = FinishReason::kEos;
        done[j] = true;
      } else if (!cfg.stop_strings.empty()) {
        const size_t from = r.tokens.size() > stop_window ? r.tokens.size() - stop_window : 0;
        const std::string text = cfg.decode(std::vector<int64_t>(r.tokens.begin() + static_cast<long>(from), r.tokens.end()));
        for (const auto& s : cfg.stop_strings) {
          if (text.find(s) != std::string::npos) {
            r.finish = FinishReason::kStop;
            done[j] = true;
            break;
          }
        }
      }
      if (done[j]) ++n_done;
    }
    if (n_done == active.size() || step + 1 == cfg.max_new_tokens) break;
    if (n_done > 0 && n_done * 8 >= active.size()) {  // compact: finished rows stop costing compute
      std::vector<int64_t> keep_slots, keep_rows;
      for (size_t j = 0; j < active.size(); ++j) {
        if (!done[j]) {
          keep_slots.push_back(static_cast<int64_t>(j));
          keep_rows.push_back(active[j]);
        }
      }
      at::Tensor keep = at::tensor(keep_slots, at::TensorOptions().dtype(at::kLong)).to(dev);
      cache.keep_rows(keep);
      tok = tok.index_select(0, keep);
      next_pos = next_pos.index_select(0, keep);
      active = keep_rows;
      done.assign(active.size(), false);
    }
    const int64_t Ba = static_cast<int64_t>(active.size());
    at::Tensor valid = at::ones({Ba, 1}, tok.options());
    hidden = model.forward_cached(tok.unsqueeze(1), next_pos.unsqueeze(1), valid, cache);  // [Ba, 1, H]
    logits = model.logits(hidden.select(1, 0));                                          // [Ba, V]
    next_pos = next_pos + 1;
  }
  return results;
}

std::vector<GenerationResult> generate(const CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                                       const GenerationConfig& config) {
  R1_CHECK(!prompts.empty(), "generate: no prompts");
  size_t T = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    R1_CHECK(!prompts[i].empty(), "generate: prompt ", i, " is empty");
    T = std::max(T, prompts[i].size());
  }
  const int64_t B = static_cast<int64_t>(prompts.size());
  at::Tensor ids = at::full({B, static_cast<int64_t>(T)}, config.pad_id, at::TensorOptions().dtype(at::kLong));
  at::Tensor mask = at::zeros({B, static_cast<int64_t>(T)}, at::TensorOptions().dtype(at::kLong));
  auto ia = ids.accessor<int64_t, 2>();
  auto ma = mask.accessor<int64_t, 2>();
  for (size_t i = 0; i < prompts.size(); ++i) {
    const size_t pad = T - prompts[i].size();
    for (size_t t = 0; t < prompts[i].size(); ++t) {
      ia[static_cast<int64_t>(i)][static_cast<int64_t>(pad + t)] = prompts[i][t];
      ma[static_cast<int64_t>(i)][static_cast<int64_t>(pad + t)] = 1;
    }
  }
  return generate(model, ids, mask, config);
}

}  // namespace r1::model
