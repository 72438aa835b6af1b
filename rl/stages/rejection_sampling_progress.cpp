// See rejection_sampling_progress.h.
#include "rl/stages/rejection_sampling_progress.h"

#include <algorithm>
#include <cstdio>

#include "common/error.h"
#include "common/fs.h"

namespace r1::rl::rs {
namespace {

std::string comma_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "(none)" : out;
}

}  // namespace

SourceStats Progress::totals() const {
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

json::Document Progress::to_json() const {
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

Progress Progress::from_json(const json::Value& v, const std::vector<std::string>& names, const std::string& where) {
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

std::string shard_path(const std::string& dir, size_t index) {
  char name[32];
  std::snprintf(name, sizeof(name), "shard-%06zu.jsonl", index);
  return path_join(path_join(dir, "shards"), name);
}

Progress start_or_resume(const RejectionSamplingConfig& c, StageContext& ctx) {
  const size_t n_sources = c.parsed_sources.size();
  const std::string progress_path = path_join(ctx.dir, "progress.json");
  Progress p;
  p.stats.resize(n_sources);
  for (const auto& s : c.parsed_sources) p.names.push_back(s.name);
  const bool writer = ctx.run.writer();  // with several ranks, rank 0 alone tidies the files; all read them
  if (ctx.resume && path_exists(progress_path)) {
    p = Progress::from_json(json::parse_file(progress_path, false), p.names, progress_path);
    for (size_t i = p.shard_sources.size(); writer && path_exists(shard_path(ctx.dir, i)); ++i) {
      remove_all(shard_path(ctx.dir, i));
    }
    if (writer) std::fprintf(stderr, "%s: resuming at source %zu/%zu, prompt %llu (%lld samples kept so far)\n",
                 ctx.spec.name.c_str(), std::min(p.source + 1, n_sources), n_sources,
                 static_cast<unsigned long long>(p.position.examples), static_cast<long long>(p.totals().kept));
  } else if (writer) {
    remove_all(path_join(ctx.dir, "shards"));
    remove_all(progress_path);
    remove_all(path_join(ctx.dir, "sft.jsonl"));
  }
  if (writer) make_dirs(path_join(ctx.dir, "shards"));
  ctx.run.forget_steps_after(ctx.spec.name, p.commits);
  return p;
}

}  // namespace r1::rl::rs
