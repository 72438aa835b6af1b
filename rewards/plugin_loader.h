// Loading C++ (or any C-ABI) reward plugins: shared libraries that follow rewards/plugin_api.h.
//
// Two ways in: register_plugin_library(registry, path) adds every reward of a library under its own
// name (the CLI's --plugin flag does this), and the built-in reward "plugin" with options
// {"library": path, "reward": name, "options": {...}} loads on demand from any reward spec (recipes).
// Libraries are opened once per path (RTLD_NOW | RTLD_LOCAL) and never closed: rewards built from them
// may live until the process exits. Errors (missing file, missing symbol, wrong ABI version, duplicate
// names, a failing create()) name the library path.
#pragma once

#include <string>
#include <vector>

#include "rewards/plugin_api.h"
#include "rewards/registry.h"

namespace r1::rewards {

struct PluginLibrary {
  std::string path;
  std::vector<const r1_reward_def*> rewards;
};

// Opens (or returns the already opened) library.
const PluginLibrary& load_plugin_library(const std::string& path);

// A reward instance from one definition of a loaded library.
RewardPtr make_plugin_reward(const PluginLibrary& library, const r1_reward_def& def, const json::Value& options,
                             const std::string& where);

// Registers every reward of the library; returns their names.
std::vector<std::string> register_plugin_library(Registry& registry, const std::string& path);

}  // namespace r1::rewards
