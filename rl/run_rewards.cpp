// See run_rewards.h.
#include "rl/run_rewards.h"

#include <mutex>

#include "rewards/registry.h"
#include "rl/reward_model_reward.h"
#include "rl/stage.h"

namespace r1::rl {

void ensure_rl_rewards() {
  static std::once_flag once;
  std::call_once(once, [] { register_reward_model_reward(rewards::Registry::global()); });
}

namespace {

void resolve_in_place(json::Value& v, json::Document::AllocatorType& a, const StageContext& ctx) {
  if (v.IsString()) {
    const std::string text(v.GetString(), v.GetStringLength());
    if (text.rfind("stage:", 0) == 0) v.SetString(ctx.resolve_ref(text).c_str(), a);
  } else if (v.IsArray()) {
    for (auto& e : v.GetArray()) resolve_in_place(e, a, ctx);
  } else if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) resolve_in_place(it->value, a, ctx);
  }
}

}  // namespace

json::Document resolve_stage_refs_in_spec(const json::Value& spec, const StageContext& ctx) {
  json::Document out;
  out.CopyFrom(spec, out.GetAllocator());
  resolve_in_place(out, out.GetAllocator(), ctx);
  return out;
}

std::string normalized_reward_spec(const std::string& text, const std::string& where) {
  const json::Document spec = json::parse(text, where);
  return json::dump(rewards::Registry::global().normalize(spec, where));
}

}  // namespace r1::rl
