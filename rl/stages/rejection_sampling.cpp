// See rejection_sampling.h. This file holds the stage's configuration (each source read over source_defaults
// and resolved in place) and its run: start or resume (rejection_sampling_progress.h), the sampling loop
// (rejection_sampling_loop.h, which decides each source's prompts with rejection_sampling_source.h), the final
// mix and stats.json (rejection_sampling_mix.h), then the summary.
#include "rl/stages/rejection_sampling.h"

#include <ATen/Parallel.h>

#include <cmath>
#include <cstdio>

#include "common/error.h"
#include "common/fs.h"
#include "rl/source_list.h"
#include "rl/stages/rejection_sampling_loop.h"
#include "rl/stages/rejection_sampling_mix.h"
#include "rl/stages/rejection_sampling_progress.h"

namespace r1::rl {

// ---------------------------------------------------------------------------------------------------------
// Configuration.

void RsSourceConfig::validate(const std::string& where) const {
  R1_CHECK(!data.path.empty(), where, ": key 'path' is required (the prompt file, or stage:NAME/file)");
  data.validate(where);
  if (!data.chat_template.empty()) {
    // (checked against the model's tokenizer by the stage)
  }
  R1_CHECK(kind == SourceKind::General || !reward.empty(), where,
           ": a reasoning source needs a 'reward' that decides which samples are correct (e.g. \"math\", a composite, "
           "a plugin, or an external judge)");
  R1_CHECK(std::isfinite(threshold), where, ": threshold must be a finite number");
  R1_CHECK(samples_per_prompt >= 1, where, ": samples_per_prompt must be >= 1");
  R1_CHECK(k >= 1, where, ": k must be >= 1");
  R1_CHECK(quota == -1 || quota >= 1, where, ": quota must be >= 1, or -1 (no source quota)");
  R1_CHECK(trivial_below_words >= 0 && trivial_below_chars >= 0, where,
           ": trivial_below_words and trivial_below_chars must be >= 0 (0: off)");
  R1_CHECK(kind == SourceKind::General || reference == ReferenceMode::Keep, where,
           ": 'reference' applies to general sources (a reasoning source keeps generated samples only)");
  R1_CHECK(!reference_key.empty(), where, ": reference_key must not be empty");
  sampling.validate(where + ": sampling");
  check_format_reward_matches_prompt(data, reward, where);
}

void RejectionSamplingConfig::validate(const std::string& where) {
  model.validate(where);
  R1_CHECK(!sources.empty(), where, ": 'sources' is required (a list of prompt sources, each with at least a path)");
  const MixPlan plan = MixPlan::parse(mix.text, total, where);
  parsed_sources = resolve_source_list(sources, source_defaults, model, where,
                                       [&](const RsSourceConfig& s, const std::string& named) {
    R1_CHECK(!plan.given || plan.value.count(s.kind), named, ": kind '", enum_name(s.kind),
             "' has no quota in 'mix' (add it to mix, or remove mix)");
  });
  for (const auto& [kind, x] : plan.value) {
    bool has_source = false;
    for (const auto& s : parsed_sources) has_source = has_source || s.kind == kind;
    R1_CHECK(has_source || !exact_ratio, where, ": mix.", enum_name(kind), ": no source has kind '", enum_name(kind),
             "': with exact_ratio the final set would be empty (add a source of this kind, remove it from mix, or set "
             "exact_ratio to false)");
  }
  filters.validate(where + ": filters");
  R1_CHECK(batch_prompts >= 1 && shard_prompts >= 1, where, ": batch_prompts and shard_prompts must be >= 1");
  R1_CHECK(threads >= 0 && reward_threads >= 0, where, ": threads and reward_threads must be >= 0");
}

namespace {

using rs::Progress;

// The last metrics line (with `written`) and the summary table on stderr (stdout stays clean for
// r1 bench rejection --json).
void report(const RejectionSamplingConfig& c, const Progress& p, int64_t written, StageContext& ctx) {
  const SourceStats t = p.totals();
  Metrics m;
  m.set("prompts", static_cast<double>(t.prompts));
  m.set("samples", static_cast<double>(t.samples));
  m.set("kept", static_cast<double>(t.kept));
  m.set("written", static_cast<double>(written));
  m.set("acceptance_rate", t.samples > 0 ? static_cast<double>(t.kept_generated) / t.samples : 0.0);
  ctx.run.log_metrics(ctx.spec.name, p.commits + 1, m);

  std::fprintf(stderr, "\n%s: %lld prompts, %lld samples, %lld correct, %lld kept, %lld written to %s\n", ctx.spec.name.c_str(),
              static_cast<long long>(t.prompts), static_cast<long long>(t.samples), static_cast<long long>(t.correct),
              static_cast<long long>(t.kept), static_cast<long long>(written), path_join(ctx.dir, "sft.jsonl").c_str());
  std::fprintf(stderr, "  %-20s %-9s %8s %8s %8s %8s %8s %10s\n", "source", "kind", "prompts", "samples", "correct", "kept",
              "accept", "CoT chars");
  for (size_t i = 0; i < c.parsed_sources.size(); ++i) {
    const SourceStats& s = p.stats[i];
    const double acc = s.acceptance_rate();
    std::fprintf(stderr, "  %-20s %-9s %8lld %8lld %8lld %8lld %7.1f%% %10.0f\n", c.parsed_sources[i].name.c_str(),
                enum_name(c.parsed_sources[i].kind), static_cast<long long>(s.prompts),
                static_cast<long long>(s.samples), static_cast<long long>(s.correct), static_cast<long long>(s.kept),
                std::isfinite(acc) ? 100 * acc : 0.0, s.cot_kept ? s.cot_chars_sum / s.cot_kept : 0.0);
  }
}

std::string run_rejection_sampling(const RejectionSamplingConfig& c, StageContext& ctx) {
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  const MixPlan plan = MixPlan::parse(c.mix.text, c.total, ctx.spec.where);
  // Every rank reads where the stage stands before rank 0 tidies the files for the new session.
  Progress p = rs::start_or_resume(c, ctx);
  ctx.world.barrier();
  rs::SamplingLoop loop(c, plan, p, ctx);
  loop.run();
  if (!ctx.run.writer()) return ctx.dir;  // rank 0 writes the final mix from the shards it wrote
  const json::Document stats = rs::write_final_mix(c, plan, p, p.elapsed_s + loop.session_s(), ctx);
  report(c, p, stats["written"].GetInt64(), ctx);
  return ctx.dir;
}

}  // namespace

std::unique_ptr<Stage> make_rejection_sampling_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<RejectionSamplingConfig>>(spec, run_rejection_sampling);
}

}  // namespace r1::rl
