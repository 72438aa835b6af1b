// See rejection_sampling_source.h.
#include "rl/stages/rejection_sampling_source.h"

#include "common/error.h"
#include "common/seed.h"
#include "rl/grpo/rollout_share.h"

namespace r1::rl::rs {
namespace {

std::vector<std::string> enabled_filter_names(const data::FilterOptions& o) {
  std::vector<std::string> out;
  const bool enabled[] = {o.mixed_language.enabled, o.long_paragraph.enabled, o.code_block.enabled, o.truncated.enabled,
                          o.no_answer.enabled,      o.repetition.enabled,     o.duplicate.enabled};
  for (size_t i = 0; i < data::kFilterCount; ++i) {
    if (enabled[i]) out.emplace_back(data::filter_name(data::all_filters()[i]));
  }
  return out;
}

}  // namespace

SourceRunner::SourceRunner(const RejectionSamplingConfig& c, const RsSourceConfig& s, size_t index,
                           const Policy& policy, StageContext& ctx, ThreadPool& pool)
    : c_(c), s_(s), index_(index), policy_(policy), ctx_(ctx), pool_(pool),
      renderer_(s.data, *policy.tokenizer, ctx.spec.where + ": sources[" + std::to_string(index) + "]"),
      filter_(c.filters), filters_passed_(enabled_filter_names(c.filters)) {
  if (!s.reward.empty()) reward_ = make_reward(s.reward, ctx, ctx.spec.where + ": sources[" + std::to_string(index) + "]");
}

bool SourceRunner::run_batch(std::vector<PromptItem>& batch, SourceStats& stats, const std::function<int64_t()>& room,
                             std::vector<std::string>& out) {
  std::vector<const data::PromptExample*> gen;
  for (auto& item : batch) {
    if (s_.kind == SourceKind::General) plan_general(item);
    if (item.plan == PromptPlan::Generate) {
      item.rollout_index = gen.size();
      gen.push_back(&item.ex);
    }
  }
  Rollout rollout;
  if (!gen.empty()) {
    // The seed of a batch depends on the source and its first prompt: a resumed run (which starts at a batch
    // boundary) draws what the uninterrupted one did.
    const uint64_t seed = mix_seed(mix_seed(ctx_.seed, index_ + 1), static_cast<uint64_t>(batch.front().index));
    if (ctx_.world.size() == 1) {
      rollout = generate_rollout(policy_, renderer_, gen, s_.samples_per_prompt, s_.sampling, seed);
      if (reward_) score_rollout(rollout, *reward_, &pool_);
    } else {
      // Each rank samples and scores its share; every rank then decides every prompt alike (rank 0 writes).
      rollout = generate_shared_rollout(ctx_.world, policy_, renderer_, gen, s_.samples_per_prompt, s_.sampling, seed,
                                        [this](Rollout& share) {
                                          if (reward_) score_rollout(share, *reward_, &pool_);
                                        });
    }
    stats.generate_s += rollout.generate_s;
    stats.reward_s += rollout.reward_s;
    stats.generated_tokens += rollout.generated_tokens;
  }
  for (auto& item : batch) {
    const int64_t left = room();
    if (left == 0) return false;
    decide(item, rollout, left, stats, out);
    if (room() == 0) return false;
  }
  return true;
}

// A general source's prompt: trivial or not, and its row's reference response, which a trivial prompt or
// reference "keep" writes as it is (no generation).
void SourceRunner::plan_general(PromptItem& item) const {
  item.trivial = is_trivial_prompt(item.ex.question, s_.trivial_below_words, s_.trivial_below_chars);
  const json::Value* ref = json::find(*item.ex.row, s_.reference_key.c_str());
  if (!ref || ref->IsNull()) return;
  R1_CHECK(ref->IsString(), item.ex.origin, ": key '", s_.reference_key, "': expected a string response, got ",
           json::type_name(*ref));
  item.reference = std::string(ref->GetString(), ref->GetStringLength());
  if (s_.reference == ReferenceMode::Keep || item.trivial) item.plan = PromptPlan::ReferenceOnly;
}

// One prompt: its candidates (the reference, or its generated samples) decided by rl/rejection.h's rules
// within `left` samples, counted, and the kept ones appended to `out` as output lines; with_cot falls back
// to the reference without CoT when no generated CoT was kept. Then its duplicate group is forgotten.
void SourceRunner::decide(const PromptItem& item, const Rollout& rollout, int64_t left, SourceStats& stats,
                          std::vector<std::string>& out) {
  const json::Value& row = *item.ex.row;
  std::string target_lang;
  if (const json::Value* t = json::find(row, "target_lang"); t && t->IsString()) target_lang = t->GetString();
  const json::Value* id = json::find(row, s_.id_key.c_str());
  if (id && !(id->IsString() || id->IsNumber())) id = nullptr;
  const std::string group = item.ex.origin;
  std::vector<Candidate> cands;
  std::vector<const Completion*> comps;
  if (item.plan == PromptPlan::ReferenceOnly) {
    cands.push_back(reference_candidate(*item.reference));
    comps.push_back(nullptr);
  } else {
    const size_t g = static_cast<size_t>(s_.samples_per_prompt);
    for (size_t j = 0; j < g; ++j) {
      comps.push_back(&rollout.completions[item.rollout_index * g + j]);
      cands.push_back(generated_candidate(item, *comps.back(), static_cast<int64_t>(j)));
    }
  }
  std::vector<Decision> decisions =
      decide_prompt(cands, s_.keep, s_.k, left, filter_, item.ex.question, target_lang, group);
  int64_t kept = 0;
  for (size_t i = 0; i < cands.size(); ++i) {
    stats.count(cands[i], decisions[i]);
    if (decisions[i].outcome != Outcome::Kept) continue;
    ++kept;
    const char* response = item.plan == PromptPlan::ReferenceOnly ? "reference"
                           : item.reference                      ? "reference_with_cot"
                                                                 : "generated";
    if (item.reference) ++stats.kept_reference;
    out.push_back(line(item, id, cands[i], comps[i], response));
  }
  // with_cot: no generated CoT made it — the reference is still good data, without a CoT.
  if (kept == 0 && item.plan == PromptPlan::Generate && item.reference && left != 0) {
    const Candidate ref = reference_candidate(*item.reference);
    const std::vector<Decision> d = decide_prompt({ref}, KeepMode::All, 1, left, filter_, item.ex.question,
                                                  target_lang, group);
    stats.count(ref, d[0]);
    if (d[0].outcome == Outcome::Kept) {
      ++stats.kept_reference;
      ++stats.fallback_no_cot;
      out.push_back(line(item, id, ref, nullptr, "reference"));
    }
  }
  filter_.forget_group(group);
  ++stats.prompts;
  stats.trivial += item.trivial;
}

// Sample j of a prompt in R1's readable format, judged: a trivial prompt's completion without think tags is
// all answer and keeps no CoT (otherwise the filters' missing_think rule cuts it); with a reference
// (with_cot), the reference replaces the generated summary.
Candidate SourceRunner::generated_candidate(const PromptItem& item, const Completion& comp, int64_t j) const {
  const ReadableParts parts = readable_parts(
      comp.text, item.trivial ? data::MissingThink::Answer : c_.filters.missing_think, s_.strip_answer_tags);
  Candidate cand;
  cand.sample_index = j;
  cand.cot = item.trivial ? std::string() : parts.cot;
  cand.summary = item.reference ? *item.reference : parts.summary;
  cand.text = readable_text(cand.cot, cand.summary, NoCotFormat::EmptyThink);
  cand.truncated = comp.generation.truncated() || parts.unclosed;
  cand.reward = comp.score.value;
  cand.correct = !reward_ || comp.score.value >= s_.threshold;
  return cand;
}

Candidate SourceRunner::reference_candidate(const std::string& reference) const {
  Candidate cand;
  cand.sample_index = -1;
  cand.summary = reference;
  cand.text = readable_text("", reference, NoCotFormat::EmptyThink);
  cand.reward = 0;
  cand.correct = true;  // a reference response is taken as correct; the filters still apply
  return cand;
}

// One output line: the chat row (user question, assistant response in R1's readable format) and its
// provenance (docs/rejection_sampling.md, "Output").
std::string SourceRunner::line(const PromptItem& item, const json::Value* id, const Candidate& cand,
                               const Completion* comp, const char* response) const {
  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  auto str = [&](const std::string& s) {
    return json::Value(s.c_str(), static_cast<rapidjson::SizeType>(s.size()), a);
  };
  json::Value messages(rapidjson::kArrayType);
  json::Value user(rapidjson::kObjectType), assistant(rapidjson::kObjectType);
  user.AddMember("role", "user", a);
  user.AddMember("content", str(item.ex.question), a);
  assistant.AddMember("role", "assistant", a);
  assistant.AddMember("content", str(readable_text(cand.cot, cand.summary, c_.no_cot_format)), a);
  messages.PushBack(user, a);
  messages.PushBack(assistant, a);
  doc.AddMember("messages", messages, a);
  doc.AddMember("source", str(s_.name), a);
  doc.AddMember("kind", json::Value(rapidjson::StringRef(enum_name(s_.kind))), a);
  if (id) {
    doc.AddMember("prompt_id", json::Value(*id, a), a);
  } else {
    doc.AddMember("prompt_id", str(item.ex.origin), a);
  }
  doc.AddMember("prompt_index", json::Value(item.index), a);
  doc.AddMember("origin", str(item.ex.origin), a);
  doc.AddMember("sample_index", json::Value(cand.sample_index), a);
  doc.AddMember("response", json::Value(rapidjson::StringRef(response)), a);
  doc.AddMember("cot", json::Value(!cand.cot.empty()), a);
  if (comp && reward_) {
    doc.AddMember("reward", json::Value(comp->score.value), a);
    json::Value comps(rapidjson::kObjectType);
    for (const auto& [k, v] : comp->score.components) comps.AddMember(str(k), json::Value(v), a);
    doc.AddMember("rewards", comps, a);
  } else {
    doc.AddMember("reward", json::Value(rapidjson::kNullType), a);
    doc.AddMember("rewards", json::Value(rapidjson::kObjectType), a);
  }
  if (comp) {
    doc.AddMember("finish", json::Value(rapidjson::StringRef(model::finish_reason_name(comp->generation.finish))), a);
    doc.AddMember("completion_tokens", json::Value(static_cast<int64_t>(comp->generation.tokens.size())), a);
  }
  json::Value passed(rapidjson::kArrayType);
  for (const auto& f : filters_passed_) passed.PushBack(str(f), a);
  doc.AddMember("filters_passed", passed, a);
  return json::dump(doc);
}

}  // namespace r1::rl::rs
