// Registration functions of the built-in rewards, one per file; builtin.cpp calls them all from
// register_builtin_rewards() (registry.h). A new built-in reward adds its function here and one line
// in builtin.cpp.
#pragma once

#include "rewards/registry.h"

namespace r1::rewards {

void register_math_rewards(Registry& registry);             // math, accuracy       (math_reward.cpp)
void register_format_reward(Registry& registry);            // format               (format_reward.cpp)
void register_language_reward(Registry& registry);          // language             (language_reward.cpp)
void register_length_rewards(Registry& registry);           // overlong, cosine_length (length_rewards.cpp)
void register_repetition_reward(Registry& registry);        // repetition           (repetition_reward.cpp)
void register_countdown_reward(Registry& registry);         // countdown            (countdown_reward.cpp)
void register_reasoning_steps_reward(Registry& registry);   // reasoning_steps      (reasoning_steps_reward.cpp)
void register_plugin_rewards(Registry& registry);           // plugin               (plugin_loader.cpp)
void register_external_reward(Registry& registry);          // external             (external_reward.cpp)

}  // namespace r1::rewards
