// See prompt_sources.h.
#include "rl/grpo/prompt_sources.h"

#include <map>

#include "common/error.h"
#include "common/seed.h"
#include "rl/stage.h"

namespace r1::rl {
namespace {

// FNV-1a: a portable hash of a source's name, the sub-stream of its data order.
uint64_t name_hash(const std::string& name) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char ch : name) h = (h ^ ch) * 0x100000001B3ull;
  return h;
}

// The `data` + `reward` form: one unnamed source.
bool single_source(const std::vector<PromptSource>& sources) {
  return sources.size() == 1 && sources[0].name().empty();
}

}  // namespace

std::vector<PromptSource> load_prompt_sources(const GrpoConfig& c, const Policy& policy, const StageContext& ctx) {
  std::vector<PromptSource> out;
  for (size_t i = 0; i < c.parsed_sources.size(); ++i) {
    const GrpoSourceConfig& cfg = c.parsed_sources[i];
    const std::string where = cfg.name.empty() ? ctx.spec.where : str_cat(ctx.spec.where, ": sources[", i, "] (",
                                                                          cfg.name, ")");
    PromptSource s;
    s.config = cfg;
    s.examples = cfg.data.load(ctx);
    s.renderer = std::make_unique<PromptRenderer>(cfg.data, *policy.tokenizer, where);
    const uint64_t order_seed = cfg.name.empty() ? ctx.seed : mix_seed(ctx.seed, name_hash(cfg.name));
    s.order = data::ShuffledOrder(s.examples.size(), order_seed);
    s.reward = make_reward(cfg.reward, ctx, where);
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<int64_t> prompts_per_source(const std::vector<PromptSource>& sources, int64_t n, int64_t step,
                                        uint64_t seed) {
  if (single_source(sources)) return {n};
  std::vector<double> weights;
  for (const auto& s : sources) weights.push_back(s.config.active(step) ? s.config.weight : 0.0);
  return split_prompts(n, weights, seed);
}

void restore_positions(std::vector<PromptSource>& sources, const TrainingSession& s) {
  if (!s.resumed_from) return;
  if (single_source(sources)) {
    sources[0].position = s.state.data_position;
    return;
  }
  const std::string where = *s.resumed_from + "/trainer_state.json: extra";
  const json::Document extra = json::parse(s.state.extra_json, where);
  const json::Value* saved = json::find(extra, "source_positions");
  R1_CHECK(saved && saved->IsObject(), where, ": no 'source_positions': the checkpoint was written by a grpo stage "
           "without named sources (run without --resume, or use another --output)");
  std::string recipe_names, saved_names;
  for (const auto& src : sources) recipe_names += (recipe_names.empty() ? "" : ", ") + src.name();
  for (auto it = saved->MemberBegin(); it != saved->MemberEnd(); ++it) {
    saved_names += (saved_names.empty() ? "" : ", ") + std::string(it->name.GetString());
  }
  R1_CHECK(saved->MemberCount() == sources.size(), where, ": written for the sources ", saved_names,
           "; the recipe has ", recipe_names, " (run without --resume, or use another --output)");
  for (auto& src : sources) {
    const json::Value* pos = json::find(*saved, src.name().c_str());
    R1_CHECK(pos && pos->IsInt64() && pos->GetInt64() >= 0, where, ": no position for source '", src.name(),
             "' (written for the sources ", saved_names, "; run without --resume, or use another --output)");
    src.position = pos->GetInt64();
  }
}

void store_positions(const std::vector<PromptSource>& sources, int64_t ref_reset_step, TrainerState& state) {
  json::Document extra(rapidjson::kObjectType);
  auto& a = extra.GetAllocator();
  extra.AddMember("ref_reset_step", json::Value(ref_reset_step), a);
  state.data_position = 0;
  for (const auto& s : sources) state.data_position += s.position;
  if (!single_source(sources)) {
    json::Value positions(rapidjson::kObjectType);
    for (const auto& s : sources) positions.AddMember(json::Value(s.name().c_str(), a), json::Value(s.position), a);
    extra.AddMember("source_positions", positions, a);
  }
  state.extra_json = json::dump(extra);
}

void log_step_prompts(TrainingSession& s, const std::vector<PromptSource>& sources,
                      const std::vector<std::pair<size_t, size_t>>& drawn) {
  std::vector<size_t> rows;
  if (single_source(sources)) {
    for (const auto& [source, row] : drawn) rows.push_back(row);
    s.log_batch("prompts", rows);
    return;
  }
  json::Document line(rapidjson::kObjectType);
  auto& a = line.GetAllocator();
  line.AddMember("step", json::Value(s.state.step), a);
  json::Value by_source(rapidjson::kObjectType);
  for (size_t i = 0; i < sources.size(); ++i) {
    json::Value list(rapidjson::kArrayType);
    for (const auto& [source, row] : drawn) {
      if (source == i) list.PushBack(json::Value(static_cast<uint64_t>(row)), a);
    }
    by_source.AddMember(json::Value(sources[i].name().c_str(), a), list, a);
  }
  line.AddMember("prompts_by_source", by_source, a);
  s.batch_log.write_line(line);
}

}  // namespace r1::rl
