// register_builtin_rewards(): every reward that ships with r1. Called once, the first time
// Registry::global() is used. The code-execution reward (sandbox/) registers itself here too.
#include "rewards/builtin.h"
#include "rewards/code/code_reward.h"

namespace r1::rewards {

void register_builtin_rewards(Registry& registry) {
  register_math_rewards(registry);
  register_format_reward(registry);
  register_language_reward(registry);
  register_length_rewards(registry);
  register_repetition_reward(registry);
  register_countdown_reward(registry);
  register_reasoning_steps_reward(registry);
  register_plugin_rewards(registry);
  register_external_reward(registry);
  register_code_reward(registry);
}

}  // namespace r1::rewards
