// See plugin_loader.h.
#include "rewards/plugin_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <mutex>

#include "common/error.h"
#include "rewards/builtin.h"
#include "rewards/options.h"

struct r1_reward_output {
  r1::rewards::Score* score;
};

namespace r1::rewards {
namespace {

void host_add_component(r1_reward_output* out, const char* name, double value) {
  if (out == nullptr || name == nullptr) return;
  out->score->components.emplace_back(name, value);
}

void host_set_reason(r1_reward_output* out, const char* reason) {
  if (out == nullptr || reason == nullptr) return;
  out->score->reason = reason;
}

const r1_reward_host kHost = {R1_REWARD_PLUGIN_ABI_VERSION, host_add_component, host_set_reason};

class PluginReward : public Reward {
 public:
  PluginReward(std::string library, const r1_reward_def& def, void* instance)
      : library_(std::move(library)), def_(def), instance_(instance) {}
  ~PluginReward() override {
    if (def_.destroy != nullptr) def_.destroy(instance_);
  }
  std::string name() const override { return def_.name; }

  Score score(const Sample& sample) const override {
    std::string row = sample.row != nullptr ? json::dump(*sample.row) : std::string("null");
    r1_reward_sample s{sample.prompt.data(),     sample.prompt.size(), sample.completion.data(),
                       sample.completion.size(), row.data(),           row.size(),
                       sample.completion_tokens, sample.truncated ? 1 : 0};
    Score out;
    r1_reward_output output{&out};
    char error[512] = {0};
    double value = 0.0;
    int rc;
    if (def_.thread_safe) {
      rc = def_.score(instance_, &s, &kHost, &output, &value, error, sizeof(error));
    } else {
      std::lock_guard<std::mutex> lock(mutex_);
      rc = def_.score(instance_, &s, &kHost, &output, &value, error, sizeof(error));
    }
    error[sizeof(error) - 1] = '\0';
    if (rc != 0) fail("plugin reward '", def_.name, "' (", library_, "): ", error[0] ? error : "score failed");
    out.value = value;
    return out;
  }

 private:
  std::string library_;
  const r1_reward_def& def_;
  void* instance_;
  mutable std::mutex mutex_;
};

std::mutex& libraries_mutex() {
  static std::mutex m;
  return m;
}

std::map<std::string, std::unique_ptr<PluginLibrary>>& libraries() {
  static std::map<std::string, std::unique_ptr<PluginLibrary>> m;
  return m;
}

const r1_reward_def* find_def(const PluginLibrary& lib, const std::string& name, const std::string& where) {
  if (name.empty()) {
    if (lib.rewards.size() != 1)
      fail(where, ": library ", lib.path, " has ", lib.rewards.size(), " rewards; choose one with option 'reward'");
    return lib.rewards[0];
  }
  std::string names;
  for (const r1_reward_def* d : lib.rewards) {
    if (name == d->name) return d;
    names += (names.empty() ? "" : ", ") + std::string(d->name);
  }
  fail(where, ": library ", lib.path, " has no reward '", name, "' (it has: ", names, ")");
}

}  // namespace

const PluginLibrary& load_plugin_library(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) fail("reward plugin '", path, "': no such file");
  std::string key = resolved;
  std::lock_guard<std::mutex> lock(libraries_mutex());
  auto it = libraries().find(key);
  if (it != libraries().end()) return *it->second;
  dlerror();
  void* handle = dlopen(key.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) fail("reward plugin '", path, "': dlopen failed: ", dlerror());
  auto entry = reinterpret_cast<r1_reward_plugin_fn>(dlsym(handle, R1_REWARD_PLUGIN_SYMBOL));
  if (entry == nullptr) fail("reward plugin '", path, "': no exported symbol ", R1_REWARD_PLUGIN_SYMBOL);
  size_t count = 0;
  const r1_reward_def* defs = entry(R1_REWARD_PLUGIN_ABI_VERSION, &count);
  if (defs == nullptr) fail("reward plugin '", path, "': does not support plugin ABI version ", R1_REWARD_PLUGIN_ABI_VERSION);
  if (count == 0 || count > 1024) fail("reward plugin '", path, "': reports ", count, " rewards");
  auto lib = std::make_unique<PluginLibrary>();
  lib->path = key;
  for (size_t k = 0; k < count; ++k) {
    const r1_reward_def& d = defs[k];
    if (d.name == nullptr || d.name[0] == '\0' || d.create == nullptr || d.score == nullptr)
      fail("reward plugin '", path, "': reward #", k, " lacks a name, create() or score()");
    lib->rewards.push_back(&d);
  }
  const PluginLibrary& ref = *lib;
  libraries().emplace(key, std::move(lib));
  return ref;
}

RewardPtr make_plugin_reward(const PluginLibrary& library, const r1_reward_def& def, const json::Value& options,
                             const std::string& where) {
  std::string options_json = options.IsNull() ? std::string("{}") : json::dump(options);
  char error[512] = {0};
  void* instance = def.create(options_json.c_str(), error, sizeof(error));
  error[sizeof(error) - 1] = '\0';
  if (instance == nullptr)
    fail(where, ": plugin reward '", def.name, "' (", library.path, ") rejected its options: ",
         error[0] ? error : "create() returned NULL");
  return std::make_shared<PluginReward>(library.path, def, instance);
}

std::vector<std::string> register_plugin_library(Registry& registry, const std::string& path) {
  const PluginLibrary& lib = load_plugin_library(path);
  std::vector<std::string> names;
  for (const r1_reward_def* def : lib.rewards) {
    RewardInfo info;
    info.name = def->name;
    info.description = def->description ? def->description : "";
    info.description += " [plugin " + lib.path + "]";
    info.options_help = def->options_help ? def->options_help : "";
    const PluginLibrary* lib_ptr = &lib;
    registry.add(info, [lib_ptr, def](const json::Value& options, const std::string& where) -> RewardPtr {
      return make_plugin_reward(*lib_ptr, *def, options, where);
    });
    names.push_back(def->name);
  }
  return names;
}

// The options of the built-in "plugin" reward: its own keys are checked, the plugin's options are not (only
// the plugin's create() knows them).
struct PluginOptions {
  std::string library;
  std::string reward;
  RawJson options;

  template <class V>
  void visit(V& v) {
    v("library", library, "path of the .so (required)");
    v("reward", reward, "which reward of the library (may be omitted when it has one)");
    v("options", options, "the plugin's own options, passed to its create() as JSON (null: {})");
  }
  void validate(const std::string& where) const {
    R1_CHECK(!library.empty(), where, ": option 'library' (path of the plugin .so) is required");
    R1_CHECK(access(library.c_str(), F_OK) == 0, where, ": option 'library': no such file '", library, "'");
  }
};

void register_plugin_rewards(Registry& registry) {
  RewardInfo info;
  info.name = "plugin";
  info.description = "a reward from a C-ABI shared library (rewards/plugin_api.h), loaded with dlopen";
  add_reward<PluginOptions>(registry, info, [](const PluginOptions& o, const std::string& where) {
    const PluginLibrary& lib = load_plugin_library(o.library);
    const r1_reward_def* def = find_def(lib, o.reward, where);
    json::Document plugin_options;
    if (!o.options.empty()) plugin_options = json::parse(o.options.text, where + ": option 'options'");
    return make_plugin_reward(lib, *def, plugin_options, where);
  });
}

}  // namespace r1::rewards
