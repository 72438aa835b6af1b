// See rejection_sampling_mix.h.
#include "rl/stages/rejection_sampling_mix.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/seed.h"

namespace r1::rl::rs {
namespace {

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

}  // namespace

json::Document write_final_mix(const RejectionSamplingConfig& c, const MixPlan& plan, const Progress& p,
                               double sampling_s, StageContext& ctx) {
  std::map<SourceKind, std::vector<ShardLine>> by_kind = index_shards(c, p, ctx.dir);
  const MixChoice mix = choose_mix(c, plan, p, by_kind, ctx.seed);
  copy_lines(mix.lines, ctx.dir, path_join(ctx.dir, "sft.jsonl"));
  json::Document stats = stats_json(c, p, mix, sampling_s, ctx.seed);
  write_file_atomic(path_join(ctx.dir, "stats.json"), json::dump(stats, true) + "\n");
  return stats;
}

}  // namespace r1::rl::rs
