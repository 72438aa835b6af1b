// See rejection_sampling_loop.h.
#include "rl/stages/rejection_sampling_loop.h"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <functional>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/interrupt.h"

namespace r1::rl::rs {
namespace {

// The progress bar's total: the kept samples wanted, when every kind has a finite quota (else 0: no total).
size_t bar_total(const MixPlan& plan, int64_t total) {
  if (!plan.given) return 0;
  size_t sum = 0;
  for (const auto& [kind, x] : plan.value) {
    const int64_t q = plan.collect_quota(kind, total);
    if (q < 0) return 0;
    sum += static_cast<size_t>(q);
  }
  return sum;
}

// A source's prompt file as a stream spec (its `stage:` reference resolved).
data::PromptDatasetSpec stream_spec(const RsSourceConfig& s, StageContext& ctx) {
  data::PromptDatasetSpec spec;
  spec.path = ctx.resolve_ref(s.data.path);
  spec.format = s.data.format;
  spec.question_key = s.data.question_key;
  spec.answer_key = s.data.answer_key;
  spec.target_lang = s.data.target_lang;
  spec.limit = s.data.limit;
  spec.skip_bad_lines = s.data.skip_bad_lines;
  return spec;
}

}  // namespace

SamplingLoop::SamplingLoop(const RejectionSamplingConfig& c, const MixPlan& plan, Progress& p, StageContext& ctx)
    : c_(c), plan_(plan), p_(p), ctx_(ctx), progress_path_(path_join(ctx.dir, "progress.json")),
      policy_(load_policy(c.model, ctx, ctx.spec.where + ": model")),
      pool_(c.reward_threads > 0 ? static_cast<size_t>(c.reward_threads) : 0),
      bar_(ctx.spec.name, bar_total(plan, c.total), ctx.quiet),
      kept_at_start_(p.totals().kept), samples_at_start_(p.totals().samples) {
  bar_.start_at(static_cast<size_t>(kept_at_start_));
  t0_ = SteadyClock::now();
}

void SamplingLoop::run() {
  for (size_t si = p_.source; si < c_.parsed_sources.size(); ++si) run_source(si);
  bar_.finish();
}

void SamplingLoop::run_source(size_t si) {
  const RsSourceConfig& s = c_.parsed_sources[si];
  SourceStats& stats = p_.stats[si];
  if (stats.done) return;
  const data::PromptDatasetSpec spec = stream_spec(s, ctx_);
  data::PromptStream stream(spec, si == p_.source ? p_.position : data::PromptStream::Position());
  SourceRunner runner(c_, s, si, policy_, ctx_, pool_);
  const int64_t kind_quota = plan_.collect_quota(s.kind, c_.total);
  const std::function<int64_t()> room = [&] { return room_of(s, stats, kind_quota); };
  while (!stats.done) {
    std::vector<PromptItem> batch;
    if (room() != 0) batch = read_batch(stream);
    if (batch.empty() || !runner.run_batch(batch, stats, room, pending_)) stats.done = true;
    pending_prompts_ += static_cast<int64_t>(batch.size());
    show_progress();
    if (stats.done) {
      if (stream.skipped_bad_lines() && ctx_.run.writer()) {
        std::fprintf(stderr, "warning: %s: skipped %zu malformed lines\n", spec.path.c_str(), stream.skipped_bad_lines());
      }
      commit(si, si + 1, data::PromptStream::Position());
    }
    // With several ranks, an interrupt that reached one rank stops them all after the same batch.
    const bool interrupted = ctx_.world.max(interrupt_requested() ? 1.0 : 0.0) > 0;
    if (!stats.done && (pending_prompts_ >= c_.shard_prompts || interrupted)) commit(si, si, stream.position());
    if (interrupted) {
      const SourceStats t = p_.totals();
      throw Interrupted(str_cat("stage '", ctx_.spec.name, "' stopped after ", t.prompts, " prompts (", t.kept,
                                " samples kept, saved in ", ctx_.dir, "/shards)"),
                        interrupt_signal() != 0 ? interrupt_signal() : SIGINT);
    }
  }
}

int64_t SamplingLoop::room_of(const RsSourceConfig& s, const SourceStats& stats, int64_t kind_quota) const {
  int64_t r = -1;
  if (s.quota >= 0) r = std::max<int64_t>(0, s.quota - stats.kept);
  if (kind_quota >= 0) {
    const int64_t k = std::max<int64_t>(0, kind_quota - kept_of_kind(s.kind));
    r = r < 0 ? k : std::min(r, k);
  }
  return r;
}

int64_t SamplingLoop::kept_of_kind(SourceKind kind) const {
  int64_t n = 0;
  for (size_t i = 0; i < c_.parsed_sources.size(); ++i) n += c_.parsed_sources[i].kind == kind ? p_.stats[i].kept : 0;
  return n;
}

std::vector<PromptItem> SamplingLoop::read_batch(data::PromptStream& stream) const {
  std::vector<PromptItem> batch;
  while (static_cast<int64_t>(batch.size()) < c_.batch_prompts) {
    const int64_t index = static_cast<int64_t>(stream.position().examples);
    std::optional<data::PromptExample> ex = stream.next();
    if (!ex) break;
    PromptItem item;
    item.ex = std::move(*ex);
    item.index = index;
    batch.push_back(std::move(item));
  }
  return batch;
}

void SamplingLoop::show_progress() {
  const SourceStats t = p_.totals();
  const double s = session_s();
  bar_.update(static_cast<size_t>(t.kept),
              {{"kept/s", s > 0 ? (t.kept - kept_at_start_) / s : 0.0},
               {"accept", t.samples > 0 ? static_cast<double>(t.kept_generated) / t.samples : 0.0},
               {"prompts", static_cast<double>(t.prompts)}});
}

void SamplingLoop::commit(size_t shard_source, size_t next_source, const data::PromptStream::Position& pos) {
  const bool writer = ctx_.run.writer();  // with several ranks every rank keeps the same books; rank 0 writes them
  if (!pending_.empty()) {
    std::string text;
    for (const auto& l : pending_) text += l + "\n";
    if (writer) write_file_atomic(shard_path(ctx_.dir, p_.shard_sources.size()), text);
    p_.shard_sources.push_back(static_cast<int64_t>(shard_source));
  }
  p_.source = next_source;
  p_.position = pos;
  ++p_.commits;
  const double session = session_s();
  pending_.clear();
  pending_prompts_ = 0;
  ctx_.run.log_metrics(ctx_.spec.name, p_.commits, commit_metrics(shard_source, session));
  Progress saved = p_;
  saved.elapsed_s = p_.elapsed_s + session;
  if (writer) write_file_atomic(progress_path_, json::dump(saved.to_json()) + "\n");
}

Metrics SamplingLoop::commit_metrics(size_t shard_source, double session) const {
  const SourceStats t = p_.totals();
  Metrics m;
  m.set("source", static_cast<double>(shard_source));
  m.set("prompts", static_cast<double>(t.prompts));
  m.set("samples", static_cast<double>(t.samples));
  m.set("correct", static_cast<double>(t.correct));
  m.set("kept", static_cast<double>(t.kept));
  m.set("acceptance_rate", t.samples > 0 ? static_cast<double>(t.kept_generated) / t.samples : 0.0);
  m.set("samples_per_s", session > 0 ? (t.samples - samples_at_start_) / session : 0.0);
  m.set("kept_per_s", session > 0 ? (t.kept - kept_at_start_) / session : 0.0);
  return m;
}

}  // namespace r1::rl::rs
