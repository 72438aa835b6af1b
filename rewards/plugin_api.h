/* The C ABI of r1 reward plugins: shared libraries loaded with dlopen that add rewards to the registry.
 *
 * A plugin is a .so exporting one function, r1_reward_plugin(abi_version, &count), which returns a
 * static array of r1_reward_def (name, description, options help, create/destroy/score callbacks). The
 * host passes each sample as plain pointers + lengths (the dataset row as compact JSON text, so the
 * plugin can use any JSON library or none) and collects components and a reason through callbacks, so
 * no C++ type crosses the boundary: plugins may be built with any compiler or language with a C FFI.
 *
 * Rules for plugin authors: create() gets the "options" object as JSON text and returns an instance or
 * NULL with a message in `error`; score() returns 0 and sets *score, or nonzero with a message (the host
 * raises it as an error naming the plugin). Set thread_safe = 1 only if score() may run concurrently on
 * one instance; otherwise the host serialises calls. Strings passed in are not NUL-terminated (use the
 * lengths) and are valid only during the call. Example: rewards/examples/example_plugin.cpp; usage in
 * README.md ("Rewards") and docs/rewards.md.
 */
#ifndef R1_REWARDS_PLUGIN_API_H
#define R1_REWARDS_PLUGIN_API_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define R1_REWARD_PLUGIN_ABI_VERSION 1
#define R1_REWARD_PLUGIN_SYMBOL "r1_reward_plugin"

typedef struct r1_reward_sample {
  const char* prompt;
  size_t prompt_len;
  const char* completion;
  size_t completion_len;
  const char* row_json; /* the dataset row as compact JSON; "null" when there is none */
  size_t row_json_len;
  int64_t completion_tokens; /* -1 when unknown */
  int truncated;             /* 1 when generation stopped at the length limit */
} r1_reward_sample;

typedef struct r1_reward_output r1_reward_output; /* owned by the host */

typedef struct r1_reward_host {
  int abi_version;
  /* Adds a named component (logged per component) to the score being produced. */
  void (*add_component)(r1_reward_output* out, const char* name, double value);
  /* Sets the one-line reason shown in logs (copied by the host). */
  void (*set_reason)(r1_reward_output* out, const char* reason);
} r1_reward_host;

typedef struct r1_reward_def {
  const char* name;         /* registry name */
  const char* description;  /* one line */
  const char* options_help; /* one option per line with its default; may be NULL */
  int thread_safe;
  void* (*create)(const char* options_json, char* error, size_t error_size);
  void (*destroy)(void* instance);
  int (*score)(void* instance, const r1_reward_sample* sample, const r1_reward_host* host, r1_reward_output* out,
               double* score, char* error, size_t error_size);
} r1_reward_def;

/* The exported entry point: the plugin's rewards, or NULL when it does not speak abi_version. */
typedef const r1_reward_def* (*r1_reward_plugin_fn)(int abi_version, size_t* count);

#ifdef __cplusplus
}
#define R1_REWARD_PLUGIN_EXTERN extern "C"
#else
#define R1_REWARD_PLUGIN_EXTERN
#endif

/* Defines the entry point for a static array of r1_reward_def: R1_REWARD_PLUGIN(my_defs) */
#define R1_REWARD_PLUGIN(DEFS)                                                                          \
  R1_REWARD_PLUGIN_EXTERN __attribute__((visibility("default"))) const r1_reward_def* r1_reward_plugin( \
      int abi_version, size_t* count) {                                                                 \
    if (abi_version != R1_REWARD_PLUGIN_ABI_VERSION) return NULL;                                       \
    *count = sizeof(DEFS) / sizeof(DEFS[0]);                                                            \
    return DEFS;                                                                                        \
  }

#endif /* R1_REWARDS_PLUGIN_API_H */
