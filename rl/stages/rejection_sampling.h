// Stage "rejection_sampling": DeepSeek-R1's SFT data from a policy (section 2.3.3). For each prompt of each
// source, samples_per_prompt completions are generated and scored; the correct ones (reward >= threshold)
// go through the R1 readability filters (datasets/filters/), a keep mode picks among the survivors, and the
// kept ones are written in R1's readable format as chat JSONL that an `sft` stage trains on directly
// (<stage>/sft.jsonl: {"messages": [user, assistant], ...provenance}). General (non-reasoning) sources may
// carry a reference response per row, kept as is or with a generated CoT; trivial prompts get no CoT.
// Quotas per source and per kind, then a seeded shuffle mixing the kinds in the stated proportion.
//
//   {"name": "rs", "type": "rejection_sampling", "model": {"path": "stage:reasoning_rl"},
//    "sources": [{"path": "math.jsonl", "kind": "reasoning", "reward": "math", "samples_per_prompt": 16},
//                {"path": "chat.jsonl", "kind": "general", "chat_template": "auto", "prompt_template": "",
//                 "reference": "keep"}],
//    "mix": {"reasoning": 600000, "general": 200000}}
//
// Files in <stage>/: shards/shard-NNNNNN.jsonl (the kept samples in prompt order, one shard per commit,
// each written atomically), progress.json (where the stage is: source, byte offset of the next prompt,
// counters; rewritten atomically after each shard), sft.jsonl (the final shuffled mix) and stats.json.
// Prompts are streamed (datasets/prompt_stream.h); --resume continues at the first prompt after the last
// commit, regenerating exactly what the killed run would have (seeds per batch of prompts). docs/rejection_sampling.md.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "datasets/filters/options.h"
#include "rl/rejection.h"
#include "rl/rollout.h"
#include "rl/stage.h"

namespace r1::rl {

// One prompt source. Its prompt keys are those of other stages' `data` (path, format, ..., prompt_template,
// chat_template).
struct RsSourceConfig {
  std::string name;
  SourceKind kind = SourceKind::Reasoning;
  PromptData data;
  std::string id_key = "id";
  RawJson reward;
  double threshold = 1.0;
  int64_t samples_per_prompt = 4;
  SamplingConfig sampling = [] {
    SamplingConfig s;
    s.temperature = 0.6;
    s.top_p = 0.95;
    s.max_new_tokens = 1024;
    return s;
  }();
  KeepMode keep = KeepMode::All;
  int64_t k = 1;
  int64_t quota = -1;
  std::string reference_key = "response";
  ReferenceMode reference = ReferenceMode::Keep;
  int64_t trivial_below_words = 4;
  int64_t trivial_below_chars = 16;
  bool strip_answer_tags = true;

  template <class V>
  void visit(V& v) {
    v("name", name, "the source's name in provenance, stats and errors (default: the file name without extension)");
    v("kind", kind, "reasoning (rule-checked, keeps a CoT) | general (non-reasoning: references, trivial prompts)");
    data.visit(v);
    v("id_key", id_key, "row key of the prompt id written as provenance (rows without it: \"file:line\")");
    v("reward", reward,
      "reward spec that judges a sample (any registered reward, composite, plugin, or an external judge); "
      "required for reasoning sources; a general source without one accepts every sample");
    v("threshold", threshold, "a sample is correct when its reward is >= this (1.0: a rule reward's 'correct')");
    v("samples_per_prompt", samples_per_prompt, "completions generated per prompt");
    v("sampling", sampling, "sampling of the completions (R1: temperature 0.6, top_p 0.95)");
    v("keep", keep, "all (every correct sample passing the filters) | best (the highest reward) | first_k (the "
                    "first k distinct, in sample order)");
    v("k", k, "samples kept per prompt with keep first_k");
    v("quota", quota, "stop this source after this many kept samples (-1: no source quota)");
    v("reference_key", reference_key, "general sources: row key of a reference response");
    v("reference", reference, "general sources, rows with a reference: keep (written as is, no CoT) | with_cot (a "
                              "generated CoT before the reference; trivial prompts keep it without CoT)");
    v("trivial_below_words", trivial_below_words,
      "general sources: a prompt with fewer words than this (each CJK character a word) and fewer characters than "
      "trivial_below_chars is trivial and gets no CoT, as R1 did for 'hello' (0: off)");
    v("trivial_below_chars", trivial_below_chars,
      "general sources: the character (code point) limit of a trivial prompt (0: off)");
    v("strip_answer_tags", strip_answer_tags,
      "a summary that is one <answer>...</answer> block (R1-Zero's template) is written without the tags");
  }
  void validate(const std::string& where) const;
};

struct RejectionSamplingConfig {
  ModelSource model;
  RawJson sources;                  // list of source objects; resolved in place by validate()
  RsSourceConfig source_defaults;   // every key of a source, and its default
  RawJson mix;
  int64_t total = -1;
  bool exact_ratio = true;
  data::FilterOptions filters;
  NoCotFormat no_cot_format = NoCotFormat::EmptyThink;
  int64_t batch_prompts = 16;
  int64_t shard_prompts = 256;
  int64_t threads = 0;
  int64_t reward_threads = 0;

  std::vector<RsSourceConfig> parsed_sources;  // filled by validate(); not a key

  template <class V>
  void visit(V& v) {
    v("model", model, "the policy that generates (path or stage:NAME, or init_config)");
    v("sources", sources,
      "list of prompt sources, each an object with the keys of source_defaults (path required); run in order");
    v("source_defaults", source_defaults, "defaults of every source's keys (a source's own keys override them)");
    v("mix", mix,
      "quotas per kind: counts {\"reasoning\": 600000, \"general\": 200000} (collect at most, write this mix) or "
      "shares {\"reasoning\": 0.75, \"general\": 0.25}; null: no kind quota, everything kept is written");
    v("total", total, "with shares: the size of the final set (-1: as large as the kept samples allow)");
    v("exact_ratio", exact_ratio,
      "when a kind falls short of its quota, shrink the others to keep the stated proportion (false: write what "
      "each kind has, up to its quota)");
    v("filters", filters, "the R1 readability filters applied to every correct sample (docs/data_filters.md)");
    v("no_cot_format", no_cot_format,
      "a response without CoT (trivial prompts, references): empty_think (\"<think>\\n\\n</think>\\n\\n\" before "
      "it, one output shape) | plain (the response alone)");
    v("batch_prompts", batch_prompts, "prompts per generate call");
    v("shard_prompts", shard_prompts,
      "prompts per output shard: the unit of atomic writes and of --resume (a kill loses at most this much work)");
    v("threads", threads, "intra-op threads (0: LibTorch's default)");
    v("reward_threads", reward_threads, "reward scoring threads (0: hardware concurrency)");
  }
  // Checks every key and resolves `sources` in place: each source read over source_defaults, its reward in
  // normal form, its name defaulted — so recipe.resolved.json shows every key of every source.
  void validate(const std::string& where);
  // Runs on every rank of a job: each samples and scores its share of every batch, rank 0 writes (rl/stage.h).
  bool data_parallel() const { return true; }
};

std::unique_ptr<Stage> make_rejection_sampling_stage(const StageSpec& spec);

}  // namespace r1::rl
