// See generate.h.
#include "model/generate.h"

#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/InferenceMode.h>

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "common/error.h"
#include "model/decode_step.h"

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

void check_config(const GenerationConfig& c, const at::Device& device) {
  R1_CHECK(c.max_new_tokens >= 0, "generate: max_new_tokens must be >= 0, got ", c.max_new_tokens);
  R1_CHECK(c.temperature >= 0.0, "generate: temperature must be >= 0, got ", c.temperature);
  R1_CHECK(c.top_p > 0.0 && c.top_p <= 1.0, "generate: top_p must be in (0, 1], got ", c.top_p);
  R1_CHECK(c.top_k >= 0, "generate: top_k must be >= 0, got ", c.top_k);
  R1_CHECK(c.sample_vocab >= 0, "generate: sample_vocab must be >= 0, got ", c.sample_vocab);
  R1_CHECK(c.sync_every >= 0, "generate: sync_every must be >= 0, got ", c.sync_every);
  R1_CHECK(c.stop_strings.empty() || c.decode, "generate: stop strings need a decode function (a tokenizer)");
  for (const auto& s : c.stop_strings) R1_CHECK(!s.empty(), "generate: empty stop string");
  R1_CHECK(c.decode_loop != DecodeLoop::kCudaGraph || device.is_cuda(),
           "generate: decode_loop kCudaGraph needs a model on a CUDA device, this one is on ", device);
}

// Distinct prompts of a left-padded batch: rows whose ids agree at every real position and whose masks
// agree. Without sharing every row is its own prompt.
struct PromptGroups {
  std::vector<int64_t> first_row;  // [U] the row each distinct prompt is prefilled from
  std::vector<int64_t> group_of;   // [B] the distinct prompt of each row
};

PromptGroups group_prompts(const at::Tensor& ids, const at::Tensor& mask, bool share) {
  const int64_t B = ids.size(0), T = ids.size(1);
  const at::Tensor m = mask.to(at::kCPU).to(at::kBool);
  const at::Tensor keyed = ids.to(at::kCPU).masked_fill(m.logical_not(), -1).contiguous();  // [B, T], pads → -1
  const int64_t* k = keyed.data_ptr<int64_t>();
  PromptGroups g;
  std::map<std::vector<int64_t>, int64_t> seen;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t next = static_cast<int64_t>(g.first_row.size());
    const int64_t group = share ? seen.emplace(std::vector<int64_t>(k + b * T, k + (b + 1) * T), next).first->second : next;
    if (group == next) g.first_row.push_back(b);
    g.group_of.push_back(group);
  }
  return g;
}

// After the prefill: the cache of all B rows, the logits of each row's last prompt position [B, V] and
// the position of its first generated token [B].
struct Prefilled {
  KVCache cache;
  at::Tensor logits, next_pos;
};

Prefilled prefill(const CausalLM& model, const at::Tensor& ids, const at::Tensor& mask, int64_t capacity,
                  const PromptGroups& groups, GenerationStats& stats) {
  const int64_t B = ids.size(0), T = ids.size(1), U = static_cast<int64_t>(groups.first_row.size());
  const auto long_opts = at::TensorOptions().dtype(at::kLong);
  at::Tensor p_ids = ids, p_mask = mask;  // [U, T]
  if (U < B) {
    const at::Tensor firsts = at::tensor(groups.first_row, long_opts).to(ids.device());  // [U]
    p_ids = ids.index_select(0, firsts);
    p_mask = mask.index_select(0, firsts);
  }
  Prefilled p{model.new_cache(U, capacity), {}, {}};
  at::Tensor positions = (p_mask.cumsum(1) - 1).clamp_min(0);                // [U, T]
  at::Tensor hidden = model.forward_cached(p_ids, positions, p_mask, p.cache);  // [U, T, H]
  p.logits = model.logits(hidden.select(1, T - 1));                         // [U, V]
  p.next_pos = positions.select(1, T - 1) + 1;                              // [U]
  if (U < B) {  // each row gets a copy of its prompt's cache
    const at::Tensor expand = at::tensor(groups.group_of, long_opts).to(ids.device());  // [B]
    p.cache.keep_rows(expand);
    p.logits = p.logits.index_select(0, expand);      // [B, V]
    p.next_pos = p.next_pos.index_select(0, expand);  // [B]
  }
  stats.prefill_rows += U;
  stats.prefill_tokens += U * T;
  return p;
}

// The uniforms of every step, [max_new_tokens, B] on `device`: one at::rand({B}) per step from a
// generator seeded with cfg.seed — the draws a per-step loop would make, made up front. With
// cfg.window_rows, the rows are a window of a larger batch: its draws are made and the window's columns kept.
at::Tensor draw_uniforms(const GenerationConfig& cfg, int64_t B, const at::Device& device) {
  const int64_t all_rows = cfg.window_rows > 0 ? cfg.window_rows : B;
  R1_CHECK(cfg.window_first_row >= 0 && cfg.window_first_row + B <= all_rows, "generate: rows [",
           cfg.window_first_row, ", ", cfg.window_first_row + B, ") are not inside the window's ", all_rows, " rows");
  at::Generator gen = at::detail::createCPUGenerator(cfg.seed);
  std::vector<at::Tensor> steps;
  for (int64_t s = 0; s < cfg.max_new_tokens; ++s) {
    at::Tensor u = at::rand({all_rows}, gen, at::TensorOptions().dtype(at::kFloat));  // one per original row
    steps.push_back(u.slice(0, cfg.window_first_row, cfg.window_first_row + B));
  }
  return at::stack(steps, 0).to(device);
}

// What the host knows about the rows in the batch.
struct Batch {
  std::vector<int64_t> active;  // original row of each batch slot
  std::vector<bool> done;       // per slot: finished but not yet compacted away
  at::Tensor rows;              // int64 [Ba] on the device: `active`, to pick each row's uniforms
};

// Whether the last token of r (just appended) ends the row: EOS, or a stop string in the decoded window
// of the last tokens. Sets r.finish.
bool finishes(GenerationResult& r, const GenerationConfig& cfg, const std::set<int64_t>& eos, size_t stop_window) {
  if (eos.count(r.tokens.back())) {
    r.finish = FinishReason::kEos;
    return true;
  }
  if (cfg.stop_strings.empty()) return false;
  const size_t from = r.tokens.size() > stop_window ? r.tokens.size() - stop_window : 0;
  const std::string text = cfg.decode(std::vector<int64_t>(r.tokens.begin() + static_cast<long>(from), r.tokens.end()));
  for (const auto& s : cfg.stop_strings) {
    if (text.find(s) != std::string::npos) {
      r.finish = FinishReason::kStop;
      return true;
    }
  }
  return false;
}

// Hands the tokens read from the device (ids / log-probs [Ba, n], CPU) to the unfinished rows, in order,
// each row until it finishes. Returns the number of finished slots.
size_t absorb(const at::Tensor& tok, const at::Tensor& lp, Batch& batch, std::vector<GenerationResult>& results,
              const GenerationConfig& cfg, const std::set<int64_t>& eos, size_t stop_window) {
  auto ta = tok.accessor<int64_t, 2>();
  auto la = lp.accessor<float, 2>();
  size_t n_done = 0;
  for (size_t j = 0; j < batch.active.size(); ++j) {
    GenerationResult& r = results[static_cast<size_t>(batch.active[j])];
    for (int64_t t = 0; t < tok.size(1) && !batch.done[j]; ++t) {
      r.tokens.push_back(ta[static_cast<int64_t>(j)][t]);
      r.logprobs.push_back(la[static_cast<int64_t>(j)][t]);
      batch.done[j] = finishes(r, cfg, eos, stop_window);
    }
    n_done += batch.done[j] ? 1 : 0;
  }
  return n_done;
}

// Once finished rows are >= 1/8 of the batch, drops them from the cache and the step state. Returns
// whether it did (the step buffers are then new tensors).
bool compact(Batch& batch, size_t n_done, KVCache& cache, StepState& s) {
  if (n_done == 0 || n_done * 8 < batch.active.size()) return false;
  std::vector<int64_t> keep_slots, keep_rows;
  for (size_t j = 0; j < batch.active.size(); ++j) {
    if (!batch.done[j]) {
      keep_slots.push_back(static_cast<int64_t>(j));
      keep_rows.push_back(batch.active[j]);
    }
  }
  const auto long_opts = at::TensorOptions().dtype(at::kLong);
  const at::Tensor keep = at::tensor(keep_slots, long_opts).to(s.tok.device());  // [Ba']
  cache.keep_rows(keep);
  s.tok = s.tok.index_select(0, keep);
  s.pos = s.pos.index_select(0, keep);
  s.logprob = s.logprob.index_select(0, keep);
  s.uniforms = at::Tensor();
  batch.active = keep_rows;
  batch.done.assign(batch.active.size(), false);
  batch.rows = at::tensor(keep_rows, long_opts).to(s.tok.device());
  return true;
}

// Step `step`'s uniforms of the rows in the batch into s.uniforms (in place once it exists: a recorded
// graph reads that buffer).
void set_uniforms(const at::Tensor& all, int64_t step, const Batch& batch, StepState& s) {
  if (!all.defined()) return;  // greedy
  at::Tensor u = all.select(0, step).index_select(0, batch.rows);  // [Ba]
  if (s.uniforms.defined()) {
    s.uniforms.copy_(u);
  } else {
    s.uniforms = u;
  }
}

}  // namespace

std::vector<GenerationResult> generate(const CausalLM& model, const at::Tensor& input_ids,
                                       const at::Tensor& attention_mask, const GenerationConfig& cfg,
                                       GenerationStats* stats_out) {
  const at::Device dev = model.device();
  R1_CHECK(!model.config().is_sequence_classifier(), "generate: the model is a sequence classifier (",
           model.config().architecture, "): it has a score head and no LM head, so it scores texts "
           "(CausalLM::sequence_scores) but cannot generate; generate with a ...ForCausalLM model");
  check_config(cfg, dev);
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
  at::Tensor ids = input_ids.to(dev);
  at::Tensor mask = attention_mask.defined() ? attention_mask.to(dev).to(at::kLong) : at::ones_like(ids);
  R1_CHECK(mask.sizes() == ids.sizes(), "generate: attention_mask has shape ", mask.sizes(), ", expected ", ids.sizes());
  R1_CHECK(mask.select(1, T - 1).min().item<int64_t>() == 1,
           "generate: prompts must be left-padded (the last position of every row must be a real token)");

  GenerationStats stats;
  std::vector<GenerationResult> results(static_cast<size_t>(B));
  if (cfg.max_new_tokens == 0) {
    if (stats_out) *stats_out = stats;
    return results;
  }
  const std::set<int64_t> eos(cfg.eos_ids.begin(), cfg.eos_ids.end());
  size_t stop_window = 32;
  for (const auto& s : cfg.stop_strings) stop_window = std::max(stop_window, 4 * s.size());
  const size_t read_every = static_cast<size_t>(cfg.sync_every > 0 ? cfg.sync_every : (dev.is_cpu() ? 1 : 8));

  Prefilled p = prefill(model, ids, mask, T + cfg.max_new_tokens, group_prompts(ids, mask, cfg.share_prompts), stats);
  Batch batch;
  for (int64_t i = 0; i < B; ++i) batch.active.push_back(i);
  batch.done.assign(static_cast<size_t>(B), false);
  batch.rows = at::arange(B, ids.options());
  const bool sampling = !(cfg.greedy || cfg.temperature == 0.0);
  const at::Tensor uniforms = sampling ? draw_uniforms(cfg, B, dev) : at::Tensor();  // [max_new, B]

  StepState s{at::empty({B}, ids.options()), p.next_pos, at::empty({B}, ids.options().dtype(at::kFloat)), {}};
  set_uniforms(uniforms, 0, batch, s);
  sample_into(p.logits, cfg, s);  // the first token, from the prefill's logits
  DecodeRunner runner(model, cfg);
  std::vector<at::Tensor> pending_tok, pending_lp;  // [Ba] each, generated since the last host read
  for (int64_t step = 0;; ++step) {
    pending_tok.push_back(s.tok.clone());
    pending_lp.push_back(s.logprob.clone());
    const bool last = step + 1 == cfg.max_new_tokens;
    if (pending_tok.size() == read_every || last) {
      const at::Tensor tok = at::stack(pending_tok, 1).to(at::kCPU);                 // [Ba, n]
      const at::Tensor lp = at::stack(pending_lp, 1).to(at::kCPU).to(at::kFloat);    // [Ba, n]
      pending_tok.clear();
      pending_lp.clear();
      ++stats.host_reads;
      const size_t n_done = absorb(tok, lp, batch, results, cfg, eos, stop_window);
      if (n_done == batch.active.size() || last) break;
      if (compact(batch, n_done, p.cache, s)) runner.reset();
    }
    set_uniforms(uniforms, step + 1, batch, s);
    runner.advance(p.cache, s);
    ++stats.decode_steps;
  }
  stats.graph_captures = runner.captures();
  if (stats_out) *stats_out = stats;
  return results;
}

std::vector<GenerationResult> generate(const CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                                       const GenerationConfig& config, GenerationStats* stats) {
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
  return generate(model, ids, mask, config, stats);
}

}  // namespace r1::model
