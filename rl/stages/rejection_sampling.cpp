// See rejection_sampling.h.
#include "rl/stages/rejection_sampling.h"

#include <ATen/Parallel.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>

#include "common/atomic_file.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/interrupt.h"
#include "common/progress.h"
#include "common/seed.h"
#include "datasets/prompt_stream.h"

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

namespace {

// "stage:gen/math_train.jsonl" → "math_train".
std::string default_source_name(const std::string& path) {
  std::string name = path.substr(path.find_last_of("/:") == std::string::npos ? 0 : path.find_last_of("/:") + 1);
  const size_t dot = name.find('.');
  if (dot != std::string::npos && dot > 0) name = name.substr(0, dot);
  return name;
}

}  // namespace

void RejectionSamplingConfig::validate(const std::string& where) {
  model.validate(where);
  R1_CHECK(!sources.empty(), where, ": 'sources' is required (a list of prompt sources, each with at least a path)");
  const json::Document list = json::parse(sources.text, where + ": sources");
  R1_CHECK(list.IsArray() && !list.Empty(), where, ": 'sources' must be a non-empty list of source objects");
  const MixPlan plan = MixPlan::parse(mix.text, total, where);
  parsed_sources.clear();
  json::Document resolved(rapidjson::kArrayType);
  for (rapidjson::SizeType i = 0; i < list.Size(); ++i) {
    const std::string at = str_cat(where, ": sources[", i, "]");
    RsSourceConfig s = source_defaults;
    ConfigReader::read_struct(list[i], at, s);
    if (s.name.empty()) s.name = default_source_name(s.data.path);
    const std::string named = str_cat(at, " (", s.name, ")");
    if (!s.reward.empty()) {
      const json::Document spec = json::parse(s.reward.text, named + ": reward");
      s.reward.text = json::dump(rewards::Registry::global().normalize(spec, named + ": reward"));
    }
    s.validate(named);
    if (!s.data.chat_template.empty()) check_chat_template(s.data.chat_template, model, named);
    for (const auto& other : parsed_sources) {
      R1_CHECK(other.name != s.name, named, ": two sources are named '", s.name, "' (set 'name' to tell them apart)");
    }
    R1_CHECK(!plan.given || plan.value.count(s.kind), named, ": kind '", enum_name(s.kind),
             "' has no quota in 'mix' (add it to mix, or remove mix)");
    json::Document one = ConfigWriter::to_document(s);
    resolved.PushBack(json::Value(one, resolved.GetAllocator()), resolved.GetAllocator());
    parsed_sources.push_back(std::move(s));
  }
  sources.text = json::dump(resolved);
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

// ---------------------------------------------------------------------------------------------------------
// Progress (progress.json): what --resume continues from.

std::string comma_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

struct Progress {
  size_t source = 0;                     // the source in progress (sources before it are done)
  data::PromptStream::Position position; // of that source: where its next prompt starts
  int64_t commits = 0;                   // commits made (the metrics step)
  std::vector<int64_t> shard_sources;    // per shard written: its source
  std::vector<SourceStats> stats;        // per source
  double elapsed_s = 0;                  // wall time of earlier sessions
  std::vector<std::string> names;        // the sources' names, in order: whom the counters belong to

  // Every source's counters summed (the ones the metrics and the bar show).
  SourceStats totals() const {
    SourceStats t;
    for (const auto& s : stats) {
      t.prompts += s.prompts;
      t.samples += s.samples;
      t.correct += s.correct;
      t.kept += s.kept;
      t.kept_generated += s.kept_generated;
    }
    return t;
  }

  json::Document to_json() const {
    json::Document doc(rapidjson::kObjectType);
    auto& a = doc.GetAllocator();
    doc.AddMember("source", json::Value(static_cast<uint64_t>(source)), a);
    json::Value pos(rapidjson::kObjectType);
    pos.AddMember("offset", json::Value(position.offset), a);
    pos.AddMember("line", json::Value(position.line), a);
    pos.AddMember("examples", json::Value(position.examples), a);
    doc.AddMember("position", pos, a);
    doc.AddMember("commits", json::Value(commits), a);
    json::Value shards(rapidjson::kArrayType);
    for (int64_t s : shard_sources) shards.PushBack(json::Value(s), a);
    doc.AddMember("shard_sources", shards, a);
    json::Value st(rapidjson::kArrayType);
    for (const auto& s : stats) {
      json::Document d = s.to_json();
      st.PushBack(json::Value(d, a), a);
    }
    doc.AddMember("stats", st, a);
    doc.AddMember("elapsed_s", json::Value(elapsed_s), a);
    json::Value names_json(rapidjson::kArrayType);
    for (const auto& n : names) names_json.PushBack(json::Value(n.c_str(), a), a);
    doc.AddMember("sources", names_json, a);
    return doc;
  }

  // Reads progress.json back; an error when it was written for other sources than `names` (renamed,
  // reordered, added or removed since), whose positions and counters it would credit to the wrong ones.
  static Progress from_json(const json::Value& v, const std::vector<std::string>& names, const std::string& where) {
    Progress p;
    p.source = static_cast<size_t>(json::get_int(v, "source", where));
    const json::Value& pos = json::get(v, "position", where);
    p.position.offset = static_cast<uint64_t>(json::get_int(pos, "offset", where));
    p.position.line = static_cast<uint64_t>(json::get_int(pos, "line", where));
    p.position.examples = static_cast<uint64_t>(json::get_int(pos, "examples", where));
    p.commits = json::get_int(v, "commits", where);
    for (const auto& s : json::get(v, "shard_sources", where).GetArray()) p.shard_sources.push_back(s.GetInt64());
    for (const auto& s : json::get(v, "stats", where).GetArray()) p.stats.push_back(SourceStats::from_json(s, where));
    p.elapsed_s = json::get_double(v, "elapsed_s", where);
    for (const auto& n : json::get(v, "sources", where).GetArray()) {
      R1_CHECK(n.IsString(), where, ": key 'sources': expected a list of source names");
      p.names.emplace_back(n.GetString(), n.GetStringLength());
    }
    R1_CHECK(p.names == names && p.stats.size() == names.size() && p.source <= names.size(), where,
             ": written for the sources ", comma_list(p.names), "; the recipe has ", comma_list(names),
             " (the sources changed: run without --resume, or use another --output)");
    return p;
  }
};

std::string shard_path(const std::string& dir, size_t index) {
  char name[32];
  std::snprintf(name, sizeof(name), "shard-%06zu.jsonl", index);
  return path_join(path_join(dir, "shards"), name);
}

std::vector<std::string> enabled_filter_names(const data::FilterOptions& o) {
  std::vector<std::string> out;
  const bool enabled[] = {o.mixed_language.enabled, o.long_paragraph.enabled, o.code_block.enabled, o.truncated.enabled,
                          o.no_answer.enabled,      o.repetition.enabled,     o.duplicate.enabled};
  for (size_t i = 0; i < data::kFilterCount; ++i) {
    if (enabled[i]) out.emplace_back(data::filter_name(data::all_filters()[i]));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// One source's prompts → kept lines.

enum class PromptPlan { Generate, ReferenceOnly };

struct PromptItem {
  data::PromptExample ex;
  int64_t index = 0;                     // in the source
  bool trivial = false;
  std::optional<std::string> reference;  // general sources: the row's reference response
  PromptPlan plan = PromptPlan::Generate;
  size_t rollout_index = 0;              // into the rollout's prompts (Generate)
};

class SourceRunner {
 public:
  SourceRunner(const RejectionSamplingConfig& c, const RsSourceConfig& s, size_t index, const Policy& policy,
               StageContext& ctx, ThreadPool& pool)
      : c_(c), s_(s), index_(index), policy_(policy), ctx_(ctx), pool_(pool),
        renderer_(s.data, *policy.tokenizer, ctx.spec.where + ": sources[" + std::to_string(index) + "]"),
        filter_(c.filters), filters_passed_(enabled_filter_names(c.filters)) {
    if (!s.reward.empty()) reward_ = make_reward(s.reward, ctx.spec.where + ": sources[" + std::to_string(index) + "]");
  }

  // Decides a batch of prompts; appends kept lines to `out` and counts into `stats`. `room()` is the number of
  // samples still allowed (-1: no limit). Returns false when the quota was met (the source is done).
  bool run_batch(std::vector<PromptItem>& batch, SourceStats& stats, const std::function<int64_t()>& room,
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
      rollout = generate_rollout(policy_, renderer_, gen, s_.samples_per_prompt, s_.sampling, seed);
      if (reward_) score_rollout(rollout, *reward_, &pool_);
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

 private:
  // A general source's prompt: trivial or not, and its row's reference response, which a trivial prompt or
  // reference "keep" writes as it is (no generation).
  void plan_general(PromptItem& item) const {
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
  void decide(const PromptItem& item, const Rollout& rollout, int64_t left, SourceStats& stats,
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
  Candidate generated_candidate(const PromptItem& item, const Completion& comp, int64_t j) const {
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

  Candidate reference_candidate(const std::string& reference) const {
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
  std::string line(const PromptItem& item, const json::Value* id, const Candidate& cand, const Completion* comp,
                   const char* response) const {
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

  const RejectionSamplingConfig& c_;
  const RsSourceConfig& s_;
  size_t index_;
  const Policy& policy_;
  StageContext& ctx_;
  ThreadPool& pool_;
  PromptRenderer renderer_;
  rewards::RewardPtr reward_;
  data::ReadabilityFilter filter_;
  std::vector<std::string> filters_passed_;
};

// ---------------------------------------------------------------------------------------------------------
// The final mix: sft.jsonl from the shards.

struct ShardLine {
  uint32_t shard;
  uint32_t length;
  uint64_t offset;
};

// Reads lines of shard files at random positions, keeping a bounded number of files open.
class ShardReader {
 public:
  explicit ShardReader(std::string dir) : dir_(std::move(dir)) {}
  std::string read(const ShardLine& l) {
    auto it = open_.find(l.shard);
    if (it == open_.end()) {
      if (open_.size() >= 64) open_.clear();
      auto f = std::make_unique<std::ifstream>(shard_path(dir_, l.shard), std::ios::binary);
      R1_CHECK(f->good(), shard_path(dir_, l.shard), ": cannot open for reading");
      it = open_.emplace(l.shard, std::move(f)).first;
    }
    std::string out(l.length, '\0');
    it->second->seekg(static_cast<std::streamoff>(l.offset));
    it->second->read(out.data(), l.length);
    R1_CHECK(it->second->good(), shard_path(dir_, l.shard), ": short read");
    return out;
  }

 private:
  std::string dir_;
  std::map<uint32_t, std::unique_ptr<std::ifstream>> open_;
};

// Where every kept sample is (its shard, offset and length), by kind: 16 bytes a sample, the text stays in
// the shards.
std::map<SourceKind, std::vector<ShardLine>> index_shards(const RejectionSamplingConfig& c, const Progress& p,
                                                          const std::string& dir) {
  std::map<SourceKind, std::vector<ShardLine>> by_kind;
  for (size_t shard = 0; shard < p.shard_sources.size(); ++shard) {
    const SourceKind kind = c.parsed_sources[static_cast<size_t>(p.shard_sources[shard])].kind;
    std::ifstream in(shard_path(dir, shard), std::ios::binary);
    R1_CHECK(in.good(), shard_path(dir, shard), ": cannot open for reading (a shard of this stage is missing)");
    std::string line;
    uint64_t offset = 0;
    while (std::getline(in, line)) {
      if (!line.empty()) {
        by_kind[kind].push_back({static_cast<uint32_t>(shard), static_cast<uint32_t>(line.size()), offset});
      }
      offset += line.size() + 1;
    }
  }
  return by_kind;
}

// The samples the final set takes, shuffled, with what each kind and source contributed.
struct MixChoice {
  std::vector<ShardLine> lines;
  std::vector<int64_t> written_per_source;
  json::Document kinds{rapidjson::kObjectType};  // kind → {"kept", "written"}
};

MixChoice choose_mix(const RejectionSamplingConfig& c, const MixPlan& plan, const Progress& p,
                     std::map<SourceKind, std::vector<ShardLine>>& by_kind, uint64_t seed) {
  std::map<SourceKind, int64_t> available;
  for (const auto& [kind, lines] : by_kind) available[kind] = static_cast<int64_t>(lines.size());
  const std::map<SourceKind, int64_t> counts = plan.final_counts(available, c.total, c.exact_ratio);
  MixChoice out;
  out.written_per_source.assign(c.parsed_sources.size(), 0);
  auto& a = out.kinds.GetAllocator();
  for (auto& [kind, lines] : by_kind) {
    // Which samples of a kind are dropped when it has more than its share: a seeded random subset.
    seeded_shuffle(lines, mix_seed(seed, 100 + static_cast<uint64_t>(kind)));
    auto it = counts.find(kind);
    const size_t n = std::min(lines.size(), static_cast<size_t>(it == counts.end() ? 0 : std::max<int64_t>(0, it->second)));
    json::Value k(rapidjson::kObjectType);
    k.AddMember("kept", json::Value(static_cast<int64_t>(lines.size())), a);
    k.AddMember("written", json::Value(static_cast<int64_t>(n)), a);
    out.kinds.AddMember(json::Value(rapidjson::StringRef(enum_name(kind))), k, a);
    for (size_t i = 0; i < n; ++i) {
      out.lines.push_back(lines[i]);
      ++out.written_per_source[static_cast<size_t>(p.shard_sources[lines[i].shard])];
    }
  }
  seeded_shuffle(out.lines, mix_seed(seed, 7));
  return out;
}

// Copies the chosen lines from the shards into `path`, written to a temporary file and renamed.
void copy_lines(const std::vector<ShardLine>& lines, const std::string& dir, const std::string& path) {
  AtomicFileWriter out(path);
  ShardReader reader(dir);
  for (const ShardLine& l : lines) {
    out.write(reader.read(l));
    out.write("\n");
  }
  out.commit();
}

// stats.json: each source's counters and what it contributed, the kinds, and the sampling loop's throughput
// (generation, scoring, filtering, shards; all sessions of a resumed run).
json::Document stats_json(const RejectionSamplingConfig& c, const Progress& p, const MixChoice& mix,
                          double sampling_s, uint64_t seed) {
  json::Document stats(rapidjson::kObjectType);
  auto& a = stats.GetAllocator();
  json::Value sources(rapidjson::kObjectType);
  for (size_t i = 0; i < c.parsed_sources.size(); ++i) {
    const RsSourceConfig& s = c.parsed_sources[i];
    json::Document d = p.stats[i].to_json();
    json::Value v(rapidjson::kObjectType);
    v.AddMember("kind", json::Value(rapidjson::StringRef(enum_name(s.kind))), a);
    v.AddMember("path", json::Value(s.data.path.c_str(), a), a);
    for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it) {
      v.AddMember(json::Value(it->name, a), json::Value(it->value, a), a);
    }
    v.AddMember("written", json::Value(mix.written_per_source[i]), a);
    sources.AddMember(json::Value(s.name.c_str(), a), v, a);
  }
  stats.AddMember("sources", sources, a);
  stats.AddMember("kinds", json::Value(mix.kinds, a), a);
  stats.AddMember("written", json::Value(static_cast<int64_t>(mix.lines.size())), a);
  stats.AddMember("output", json::Value("sft.jsonl", a), a);
  stats.AddMember("shards", json::Value(static_cast<int64_t>(p.shard_sources.size())), a);
  stats.AddMember("seed", json::Value(seed), a);
  const SourceStats t = p.totals();
  stats.AddMember("sampling_s", json::Value(sampling_s), a);
  stats.AddMember("samples_per_s", json::Value(sampling_s > 0 ? t.samples / sampling_s : 0.0), a);
  stats.AddMember("kept_per_s", json::Value(sampling_s > 0 ? t.kept / sampling_s : 0.0), a);
  return stats;
}

// sft.jsonl (the kept samples of every kind in the stated mix, shuffled) and stats.json; returns the stats.
json::Document write_final_mix(const RejectionSamplingConfig& c, const MixPlan& plan, const Progress& p,
                               double sampling_s, StageContext& ctx) {
  std::map<SourceKind, std::vector<ShardLine>> by_kind = index_shards(c, p, ctx.dir);
  const MixChoice mix = choose_mix(c, plan, p, by_kind, ctx.seed);
  copy_lines(mix.lines, ctx.dir, path_join(ctx.dir, "sft.jsonl"));
  json::Document stats = stats_json(c, p, mix, sampling_s, ctx.seed);
  write_file_atomic(path_join(ctx.dir, "stats.json"), json::dump(stats, true) + "\n");
  return stats;
}

// ---------------------------------------------------------------------------------------------------------
// The stage: start or resume, every source's prompts in batches with a commit every shard_prompts prompts,
// then the final mix and a summary.

// A clean start, or --resume: progress.json read back, a shard written after it (killed in between) removed
// (its prompts run again and write it again), and the metrics lines logged after it forgotten.
Progress start_or_resume(const RejectionSamplingConfig& c, StageContext& ctx) {
  const size_t n_sources = c.parsed_sources.size();
  const std::string progress_path = path_join(ctx.dir, "progress.json");
  Progress p;
  p.stats.resize(n_sources);
  for (const auto& s : c.parsed_sources) p.names.push_back(s.name);
  if (ctx.resume && path_exists(progress_path)) {
    p = Progress::from_json(json::parse_file(progress_path, false), p.names, progress_path);
    for (size_t i = p.shard_sources.size(); path_exists(shard_path(ctx.dir, i)); ++i) remove_all(shard_path(ctx.dir, i));
    std::fprintf(stderr, "%s: resuming at source %zu/%zu, prompt %llu (%lld samples kept so far)\n",
                 ctx.spec.name.c_str(), std::min(p.source + 1, n_sources), n_sources,
                 static_cast<unsigned long long>(p.position.examples), static_cast<long long>(p.totals().kept));
  } else {
    remove_all(path_join(ctx.dir, "shards"));
    remove_all(progress_path);
    remove_all(path_join(ctx.dir, "sft.jsonl"));
  }
  make_dirs(path_join(ctx.dir, "shards"));
  ctx.run.forget_steps_after(ctx.spec.name, p.commits);
  return p;
}

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

// The sampling loop over every source not yet done: batches of prompts through SourceRunner, the kept lines
// collected until a commit writes them as a shard, the bar, and the stop on SIGINT/SIGTERM.
class SamplingLoop {
 public:
  SamplingLoop(const RejectionSamplingConfig& c, const MixPlan& plan, Progress& p, StageContext& ctx)
      : c_(c), plan_(plan), p_(p), ctx_(ctx), progress_path_(path_join(ctx.dir, "progress.json")),
        policy_(load_policy(c.model, ctx, ctx.spec.where + ": model")),
        pool_(c.reward_threads > 0 ? static_cast<size_t>(c.reward_threads) : 0),
        bar_(ctx.spec.name, bar_total(plan, c.total), ctx.quiet),
        kept_at_start_(p.totals().kept), samples_at_start_(p.totals().samples) {
    bar_.start_at(static_cast<size_t>(kept_at_start_));
    t0_ = SteadyClock::now();
  }

  void run() {
    for (size_t si = p_.source; si < c_.parsed_sources.size(); ++si) run_source(si);
    bar_.finish();
  }

  double session_s() const { return seconds_since(t0_); }

 private:
  void run_source(size_t si) {
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
        if (stream.skipped_bad_lines()) {
          std::fprintf(stderr, "warning: %s: skipped %zu malformed lines\n", spec.path.c_str(), stream.skipped_bad_lines());
        }
        commit(si, si + 1, data::PromptStream::Position());
      } else if (pending_prompts_ >= c_.shard_prompts || interrupt_requested()) {
        commit(si, si, stream.position());
      }
      if (interrupt_requested()) {
        const SourceStats t = p_.totals();
        throw Interrupted(str_cat("stage '", ctx_.spec.name, "' stopped after ", t.prompts, " prompts (", t.kept,
                                  " samples kept, saved in ", ctx_.dir, "/shards)"),
                          interrupt_signal());
      }
    }
  }

  // Samples a source may still keep: the rest of its own quota and of its kind's (-1: no limit).
  int64_t room_of(const RsSourceConfig& s, const SourceStats& stats, int64_t kind_quota) const {
    int64_t r = -1;
    if (s.quota >= 0) r = std::max<int64_t>(0, s.quota - stats.kept);
    if (kind_quota >= 0) {
      const int64_t k = std::max<int64_t>(0, kind_quota - kept_of_kind(s.kind));
      r = r < 0 ? k : std::min(r, k);
    }
    return r;
  }

  int64_t kept_of_kind(SourceKind kind) const {
    int64_t n = 0;
    for (size_t i = 0; i < c_.parsed_sources.size(); ++i) n += c_.parsed_sources[i].kind == kind ? p_.stats[i].kept : 0;
    return n;
  }

  // The next batch_prompts prompts of the stream (fewer at its end), each with its index in the source.
  std::vector<PromptItem> read_batch(data::PromptStream& stream) const {
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

  void show_progress() {
    const SourceStats t = p_.totals();
    const double s = session_s();
    bar_.update(static_cast<size_t>(t.kept),
                {{"kept/s", s > 0 ? (t.kept - kept_at_start_) / s : 0.0},
                 {"accept", t.samples > 0 ? static_cast<double>(t.kept_generated) / t.samples : 0.0},
                 {"prompts", static_cast<double>(t.prompts)}});
  }

  // Order matters for a kill at any moment: the shard, then the metrics line, then progress.json, which makes
  // both part of the state. A shard or metrics line written after the last progress.json is dropped on resume
  // and written again.
  void commit(size_t shard_source, size_t next_source, const data::PromptStream::Position& pos) {
    if (!pending_.empty()) {
      std::string text;
      for (const auto& l : pending_) text += l + "\n";
      write_file_atomic(shard_path(ctx_.dir, p_.shard_sources.size()), text);
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
    write_file_atomic(progress_path_, json::dump(saved.to_json()) + "\n");
  }

  Metrics commit_metrics(size_t shard_source, double session) const {
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

  const RejectionSamplingConfig& c_;
  const MixPlan& plan_;
  Progress& p_;
  StageContext& ctx_;
  const std::string progress_path_;
  Policy policy_;
  ThreadPool pool_;
  ProgressBar bar_;
  const int64_t kept_at_start_, samples_at_start_;
  SteadyClock::time_point t0_;
  std::vector<std::string> pending_;  // the kept lines of the shard being filled
  int64_t pending_prompts_ = 0;
};

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
  Progress p = start_or_resume(c, ctx);
  SamplingLoop loop(c, plan, p, ctx);
  loop.run();
  const json::Document stats = write_final_mix(c, plan, p, p.elapsed_s + loop.session_s(), ctx);
  report(c, p, stats["written"].GetInt64(), ctx);
  return ctx.dir;
}

}  // namespace

std::unique_ptr<Stage> make_rejection_sampling_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<RejectionSamplingConfig>>(spec, run_rejection_sampling);
}

}  // namespace r1::rl
