// See config.h. Defaults here are those of the HF transformers 5 config classes of each architecture, so
// a config.json that omits a key means what it means to HF; structural sizes are required.
#include "model/config.h"

#include <cmath>
#include <sstream>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"

namespace r1::model {
namespace {

using json::Document;
using json::Value;

struct ArchInfo {
  Architecture arch;
  const char* class_name;    // the causal LM
  const char* seq_cls_name;  // the sequence classifier
  const char* model_type;
};

constexpr ArchInfo kArchs[] = {
    {Architecture::kDeepseekV3, "DeepseekV3ForCausalLM", "DeepseekV3ForSequenceClassification", "deepseek_v3"},
    {Architecture::kDeepseekV2, "DeepseekV2ForCausalLM", "DeepseekV2ForSequenceClassification", "deepseek_v2"},
    {Architecture::kQwen2, "Qwen2ForCausalLM", "Qwen2ForSequenceClassification", "qwen2"},
    {Architecture::kLlama, "LlamaForCausalLM", "LlamaForSequenceClassification", "llama"},
};

// Typed readers bound to one JSON object and an error prefix ("config.json" or "config.json: rope_parameters").
struct Reader {
  const Value& obj;
  std::string where;

  int64_t req_int(const char* key) const {
    const Value* v = json::find(obj, key);
    R1_CHECK(v != nullptr && !v->IsNull(), where, ": missing required key '", key, "'");
    return json::get_int(obj, key, where);
  }
  int64_t int_or(const char* key, int64_t fallback) const {
    return json::opt_int(obj, key, where).value_or(fallback);
  }
  double double_or(const char* key, double fallback) const {
    return json::opt_double(obj, key, where).value_or(fallback);
  }
  bool bool_or(const char* key, bool fallback) const { return json::opt_bool(obj, key, where).value_or(fallback); }
  std::string string_or(const char* key, const std::string& fallback) const {
    return json::opt_string(obj, key, where).value_or(fallback);
  }
  bool has(const char* key) const {
    const Value* v = json::find(obj, key);
    return v != nullptr && !v->IsNull();
  }
};

RopeParameters parse_rope_object(const Reader& r, double theta_fallback) {
  RopeParameters p;
  p.rope_theta = r.double_or("rope_theta", theta_fallback);
  p.rope_type = r.string_or("rope_type", r.string_or("type", "default"));
  R1_CHECK(r.double_or("partial_rotary_factor", 1.0) == 1.0, r.where,
           ": key 'partial_rotary_factor': partial rotary embeddings are not supported");
  if (p.rope_type == "default") return p;
  if (p.rope_type != "linear" && p.rope_type != "yarn" && p.rope_type != "llama3") {
    fail(r.where, ": key 'rope_type': unsupported RoPE type '", p.rope_type,
         "' (r1 supports default, linear, yarn, llama3)");
  }
  p.original_max_position_embeddings = r.int_or("original_max_position_embeddings", 0);
  if (r.has("factor")) {
    p.factor = r.double_or("factor", 1.0);
  } else {
    R1_CHECK(p.rope_type == "yarn" && p.original_max_position_embeddings > 0, r.where,
             ": missing required key 'factor'");
    p.factor = 0.0;  // resolved from max_position_embeddings / original_max_position_embeddings below
  }
  p.beta_fast = r.double_or("beta_fast", 32.0);
  p.beta_slow = r.double_or("beta_slow", 1.0);
  if (p.beta_fast == 0) p.beta_fast = 32.0;  // HF: `get("beta_fast") or 32`
  if (p.beta_slow == 0) p.beta_slow = 1.0;
  p.mscale = r.double_or("mscale", 0.0);
  p.mscale_all_dim = r.double_or("mscale_all_dim", 0.0);
  p.attention_factor = json::opt_double(r.obj, "attention_factor", r.where);
  p.truncate = r.bool_or("truncate", true);
  p.low_freq_factor = r.double_or("low_freq_factor", 1.0);
  p.high_freq_factor = r.double_or("high_freq_factor", 4.0);
  if (p.rope_type == "llama3") {
    R1_CHECK(p.original_max_position_embeddings > 0, r.where, ": missing required key 'original_max_position_embeddings'");
  }
  return p;
}

// A sequence classifier's label count as HF's PretrainedConfig reads it: the size of id2label, else
// num_labels, else 2. Both keys present and disagreeing is an error here (HF warns and takes id2label).
int64_t read_num_labels(const Value& doc, const std::string& origin) {
  const std::optional<int64_t> key = json::opt_int(doc, "num_labels", origin);
  const Value* map = json::find(doc, "id2label");
  if (map == nullptr || map->IsNull()) return key.value_or(2);
  R1_CHECK(map->IsObject(), origin, ": key 'id2label': expected an object {\"0\": \"LABEL_0\", ...}, got ",
           json::type_name(*map));
  const int64_t size = static_cast<int64_t>(map->MemberCount());
  R1_CHECK(!key || *key == size, origin, ": keys 'num_labels' (", key.value_or(0), ") and 'id2label' (", size,
           " entries) disagree; make them agree (HF would use id2label)");
  return size;
}

double yarn_mscale(double scale, double mscale) {
  if (scale <= 1.0) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

// ---- writing helpers: set a member only when it is missing or its value differs (keeps the spelling) ----

void put(Document& d, Value& obj, const char* key, Value v) { json::set_member(d, obj, key, std::move(v)); }

void put_int(Document& d, Value& obj, const char* key, int64_t v) {
  const Value* old = json::find(obj, key);
  if (old && old->IsNumber() && old->GetDouble() == static_cast<double>(v)) return;
  put(d, obj, key, Value(static_cast<int64_t>(v)));
}

void put_double(Document& d, Value& obj, const char* key, double v) {
  const Value* old = json::find(obj, key);
  if (old && old->IsNumber() && old->GetDouble() == v) return;
  put(d, obj, key, Value(v));
}

void put_bool(Document& d, Value& obj, const char* key, bool v) {
  const Value* old = json::find(obj, key);
  if (old && old->IsBool() && old->GetBool() == v) return;
  put(d, obj, key, Value(v));
}

void put_string(Document& d, Value& obj, const char* key, const std::string& v) {
  const Value* old = json::find(obj, key);
  if (old && old->IsString() && v == old->GetString()) return;
  put(d, obj, key, Value(v.c_str(), static_cast<rapidjson::SizeType>(v.size()), d.GetAllocator()));
}

void put_optional_int(Document& d, Value& obj, const char* key, std::optional<int64_t> v) {
  if (v) {
    put_int(d, obj, key, *v);
  } else {
    const Value* old = json::find(obj, key);
    if (old && old->IsNull()) return;
    put(d, obj, key, Value(rapidjson::kNullType));
  }
}

void put_int_list(Document& d, Value& obj, const char* key, const std::vector<int64_t>& v) {
  if (v.empty()) return put_optional_int(d, obj, key, std::nullopt);
  const Value* old = json::find(obj, key);
  if (v.size() == 1 && !(old && old->IsArray())) return put_int(d, obj, key, v[0]);
  Value arr(rapidjson::kArrayType);
  for (int64_t x : v) arr.PushBack(Value(static_cast<int64_t>(x)), d.GetAllocator());
  if (old && *old == arr) return;
  put(d, obj, key, std::move(arr));
}

// The object member `key` of obj, created (or replaced if it is not an object) when needed.
Value& object_member(Document& d, Value& obj, const char* key) {
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsObject()) {
    put(d, obj, key, Value(rapidjson::kObjectType));
    it = obj.FindMember(key);
  }
  return it->value;
}

void write_rope_fields(Document& d, Value& obj, const RopeParameters& p, bool with_theta) {
  if (with_theta) put_double(d, obj, "rope_theta", p.rope_theta);
  put_string(d, obj, "rope_type", p.rope_type);
  if (json::find(obj, "type")) put_string(d, obj, "type", p.rope_type);
  if (p.rope_type == "default") return;
  put_double(d, obj, "factor", p.factor);
  if (p.original_max_position_embeddings > 0)
    put_int(d, obj, "original_max_position_embeddings", p.original_max_position_embeddings);
  if (p.rope_type == "yarn") {
    put_double(d, obj, "beta_fast", p.beta_fast);
    put_double(d, obj, "beta_slow", p.beta_slow);
    if (p.mscale != 0 || json::find(obj, "mscale")) put_double(d, obj, "mscale", p.mscale);
    if (p.mscale_all_dim != 0 || json::find(obj, "mscale_all_dim")) put_double(d, obj, "mscale_all_dim", p.mscale_all_dim);
    if (p.attention_factor) put_double(d, obj, "attention_factor", *p.attention_factor);
    if (!p.truncate) put_bool(d, obj, "truncate", false);
  }
  if (p.rope_type == "llama3") {
    put_double(d, obj, "low_freq_factor", p.low_freq_factor);
    put_double(d, obj, "high_freq_factor", p.high_freq_factor);
  }
}

// num_labels and HF's id2label / label2id ({"0": "LABEL_0"} / {"LABEL_0": 0} per label); maps that already
// have num_labels entries keep their (custom) label names.
void write_labels(Document& d, Value& obj, int64_t num_labels) {
  put_int(d, obj, "num_labels", num_labels);
  const Value* old = json::find(obj, "id2label");
  if (old && old->IsObject() && static_cast<int64_t>(old->MemberCount()) == num_labels) return;
  Value id2label(rapidjson::kObjectType), label2id(rapidjson::kObjectType);
  for (int64_t i = 0; i < num_labels; ++i) {
    const std::string id = std::to_string(i), label = "LABEL_" + id;
    id2label.AddMember(Value(id.c_str(), d.GetAllocator()), Value(label.c_str(), d.GetAllocator()), d.GetAllocator());
    label2id.AddMember(Value(label.c_str(), d.GetAllocator()), Value(static_cast<int64_t>(i)), d.GetAllocator());
  }
  put(d, obj, "id2label", std::move(id2label));
  put(d, obj, "label2id", std::move(label2id));
}

}  // namespace

const char* architecture_name(Architecture arch, Head head) {
  for (const auto& a : kArchs)
    if (a.arch == arch) return head == Head::kSequenceClassification ? a.seq_cls_name : a.class_name;
  return "?";
}

ModelConfig ModelConfig::from_file(const std::string& path) { return from_json(read_file(path), path); }

ModelConfig ModelConfig::from_json(const std::string& text, const std::string& origin) {
  Document doc = json::parse(text, origin, /*allow_comments=*/true);
  R1_CHECK(doc.IsObject(), origin, ": expected a JSON object, got ", json::type_name(doc));
  Reader r{doc, origin};
  ModelConfig c;
  c.origin = origin;
  c.source_json = text;

  // Architecture: the first entry of "architectures", else the model_type.
  std::string name;
  if (const Value* archs = json::find(doc, "architectures"); archs && archs->IsArray() && !archs->Empty()) {
    R1_CHECK(archs->GetArray()[0].IsString(), origin, ": key 'architectures': expected a list of strings");
    name = archs->GetArray()[0].GetString();
  }
  const std::string model_type = r.string_or("model_type", "");
  bool found = false;
  for (const auto& a : kArchs) {
    const bool seq_cls = !name.empty() && name == a.seq_cls_name;
    if ((!name.empty() && name == a.class_name) || seq_cls || (name.empty() && model_type == a.model_type)) {
      c.arch = a.arch;
      c.head = seq_cls ? Head::kSequenceClassification : Head::kCausalLM;
      c.architecture = seq_cls ? a.seq_cls_name : a.class_name;
      c.model_type = a.model_type;
      found = true;
    }
  }
  if (!found) {
    R1_CHECK(!name.empty() || !model_type.empty(), origin, ": missing required key 'architectures'");
    fail(origin, ": key '", name.empty() ? "model_type" : "architectures", "': unsupported architecture '",
         name.empty() ? model_type : name,
         "' (r1 supports DeepseekV3, DeepseekV2, Qwen2 and Llama, each ...ForCausalLM or ...ForSequenceClassification)");
  }
  if (c.is_sequence_classifier()) c.num_labels = read_num_labels(doc, origin);
  const bool deepseek = c.is_mla();
  c.dtype = r.string_or("dtype", r.string_or("torch_dtype", ""));

  c.vocab_size = r.req_int("vocab_size");
  c.hidden_size = r.req_int("hidden_size");
  c.num_hidden_layers = r.req_int("num_hidden_layers");
  c.num_attention_heads = r.req_int("num_attention_heads");
  c.num_key_value_heads = r.int_or("num_key_value_heads", c.num_attention_heads);
  c.rms_norm_eps = r.double_or("rms_norm_eps", 1e-6);
  c.max_position_embeddings =
      r.int_or("max_position_embeddings", c.arch == Architecture::kDeepseekV3   ? 4096
                                          : c.arch == Architecture::kQwen2     ? 32768
                                                                               : 2048);
  c.tie_word_embeddings = r.bool_or("tie_word_embeddings", false);
  c.attention_bias = r.bool_or("attention_bias", false);
  c.mlp_bias = r.bool_or("mlp_bias", false);
  c.hidden_act = r.string_or("hidden_act", "silu");
  c.initializer_range = r.double_or("initializer_range", 0.02);
  R1_CHECK(c.hidden_act == "silu" || c.hidden_act == "swish", origin, ": key 'hidden_act': unsupported activation '",
           c.hidden_act, "' (r1 supports silu)");
  c.bos_token_id = json::opt_int(doc, "bos_token_id", origin);
  c.pad_token_id = json::opt_int(doc, "pad_token_id", origin);
  c.eos_token_id = json::opt_int_list(doc, "eos_token_id", origin);

  if (c.arch == Architecture::kQwen2) {
    R1_CHECK(!r.bool_or("use_sliding_window", false), origin,
             ": key 'use_sliding_window': sliding-window attention is not supported by r1");
  }

  const double partial = r.double_or("partial_rotary_factor", 1.0);
  R1_CHECK(partial == 1.0, origin, ": key 'partial_rotary_factor': partial rotary embeddings are not supported (got ",
           partial, ")");

  // RoPE: rope_parameters (transformers >= 5) wins; else rope_scaling + top-level rope_theta.
  const double theta_top = r.double_or("rope_theta", 10000.0);
  if (const Value* rp = json::find(doc, "rope_parameters"); rp && rp->IsObject()) {
    c.rope = parse_rope_object(Reader{*rp, origin + ": rope_parameters"}, theta_top);
  } else if (const Value* rs = json::find(doc, "rope_scaling"); rs && rs->IsObject()) {
    c.rope = parse_rope_object(Reader{*rs, origin + ": rope_scaling"}, theta_top);
    c.rope.rope_theta = theta_top;
  } else {
    if (rp && !rp->IsNull()) fail(origin, ": key 'rope_parameters': expected an object");
    if (rs && !rs->IsNull()) fail(origin, ": key 'rope_scaling': expected an object or null");
    c.rope.rope_theta = theta_top;
  }
  if (c.rope.rope_type == "yarn" && c.rope.factor == 0.0) {
    c.rope.factor = static_cast<double>(c.max_position_embeddings) / c.rope.original_max_position_embeddings;
  }

  if (deepseek) {
    c.intermediate_size = r.req_int("intermediate_size");
    c.kv_lora_rank = r.req_int("kv_lora_rank");
    R1_CHECK(json::find(doc, "q_lora_rank") != nullptr, origin, ": missing required key 'q_lora_rank' (null for none)");
    c.q_lora_rank = r.int_or("q_lora_rank", 0);
    c.qk_nope_head_dim = r.req_int("qk_nope_head_dim");
    c.qk_rope_head_dim = r.req_int("qk_rope_head_dim");
    c.v_head_dim = r.req_int("v_head_dim");
    c.head_dim = c.qk_rope_head_dim;  // as HF sets it (the RoPE dimension)
    c.rope_interleave = c.arch == Architecture::kDeepseekV3 ? r.bool_or("rope_interleave", true) : true;
    const bool v3 = c.arch == Architecture::kDeepseekV3;
    c.n_routed_experts = r.int_or("n_routed_experts", v3 ? 256 : 64);
    if (c.n_routed_experts > 0) {
      c.num_experts_per_tok = r.req_int("num_experts_per_tok");
      c.moe_intermediate_size = r.req_int("moe_intermediate_size");
    }
    c.n_shared_experts = r.int_or("n_shared_experts", v3 ? 1 : 0);
    c.first_k_dense_replace = r.int_or("first_k_dense_replace", v3 ? 3 : 0);
    c.moe_layer_freq = r.int_or("moe_layer_freq", 1);
    c.n_group = r.int_or("n_group", v3 ? 8 : 1);
    c.topk_group = r.int_or("topk_group", v3 ? 4 : 1);
    c.norm_topk_prob = r.bool_or("norm_topk_prob", v3);
    c.routed_scaling_factor = r.double_or("routed_scaling_factor", v3 ? 2.5 : 1.0);
    c.scoring_func = r.string_or("scoring_func", v3 ? "sigmoid" : "softmax");
    c.topk_method = r.string_or("topk_method", v3 ? "noaux_tc" : "greedy");
    if (v3) {
      R1_CHECK(c.scoring_func == "sigmoid", origin, ": key 'scoring_func': DeepseekV3 uses 'sigmoid', got '",
               c.scoring_func, "'");
      R1_CHECK(c.topk_method == "noaux_tc", origin, ": key 'topk_method': DeepseekV3 uses 'noaux_tc', got '",
               c.topk_method, "'");
      c.num_nextn_predict_layers = r.int_or("num_nextn_predict_layers", 0);
    } else {
      R1_CHECK(c.scoring_func == "softmax", origin, ": key 'scoring_func': DeepseekV2 uses 'softmax', got '",
               c.scoring_func, "'");
      R1_CHECK(c.topk_method == "greedy" || c.topk_method == "group_limited_greedy", origin,
               ": key 'topk_method': expected 'greedy' or 'group_limited_greedy', got '", c.topk_method, "'");
      if (c.topk_method == "greedy") c.n_group = c.topk_group = 1;
    }
  } else {
    c.intermediate_size = r.req_int("intermediate_size");
    c.head_dim = r.int_or("head_dim", c.num_attention_heads > 0 ? c.hidden_size / c.num_attention_heads : 0);
  }
  c.validate();
  return c;
}

void ModelConfig::validate() const {
  const std::string& o = origin.empty() ? std::string("model config") : origin;
  auto positive = [&](const char* key, int64_t v) { R1_CHECK(v > 0, o, ": key '", key, "': must be > 0, got ", v); };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_hidden_layers", num_hidden_layers);
  positive("num_attention_heads", num_attention_heads);
  R1_CHECK(rms_norm_eps > 0, o, ": key 'rms_norm_eps': must be > 0");
  R1_CHECK(rope.rope_theta > 0, o, ": key 'rope_theta': must be > 0");
  if (is_sequence_classifier()) {
    R1_CHECK(num_labels >= 1, o, ": key 'num_labels': a sequence classifier needs >= 1 label, got ", num_labels);
    R1_CHECK(num_nextn_predict_layers == 0, o, ": key 'num_nextn_predict_layers': a sequence classifier (",
             architecture, ") has no MTP module; set it to 0");
  }
  if (rope.rope_type != "default") R1_CHECK(rope.factor > 0, o, ": key 'factor' of the RoPE parameters: must be > 0");
  if (is_mla()) {
    positive("kv_lora_rank", kv_lora_rank);
    positive("qk_rope_head_dim", qk_rope_head_dim);
    positive("v_head_dim", v_head_dim);
    R1_CHECK(qk_nope_head_dim >= 0, o, ": key 'qk_nope_head_dim': must be >= 0");
    R1_CHECK(q_lora_rank >= 0, o, ": key 'q_lora_rank': must be >= 0 or null");
    R1_CHECK(qk_rope_head_dim % 2 == 0, o, ": key 'qk_rope_head_dim': must be even, got ", qk_rope_head_dim);
    R1_CHECK(num_key_value_heads == num_attention_heads || num_key_value_heads > 0, o,
             ": key 'num_key_value_heads': must be > 0");
    if (n_routed_experts > 0) {
      positive("num_experts_per_tok", num_experts_per_tok);
      positive("moe_intermediate_size", moe_intermediate_size);
      positive("n_group", n_group);
      positive("topk_group", topk_group);
      positive("moe_layer_freq", moe_layer_freq);
      R1_CHECK(n_shared_experts >= 0, o, ": key 'n_shared_experts': must be >= 0");
      R1_CHECK(n_routed_experts % n_group == 0, o, ": key 'n_group': n_routed_experts (", n_routed_experts,
               ") must be divisible by n_group (", n_group, ")");
      R1_CHECK(topk_group <= n_group, o, ": key 'topk_group': must be <= n_group (", n_group, "), got ", topk_group);
      R1_CHECK(num_experts_per_tok <= (n_routed_experts / n_group) * topk_group, o,
               ": key 'num_experts_per_tok': ", num_experts_per_tok, " experts cannot be picked from ", topk_group,
               " groups of ", n_routed_experts / n_group);
    }
    R1_CHECK(num_nextn_predict_layers >= 0 && num_nextn_predict_layers <= 1, o,
             ": key 'num_nextn_predict_layers': r1 runs at most one MTP module, got ", num_nextn_predict_layers);
    if (first_k_dense_replace > 0 || n_routed_experts == 0) positive("intermediate_size", intermediate_size);
  } else {
    positive("intermediate_size", intermediate_size);
    positive("head_dim", head_dim);
    positive("num_key_value_heads", num_key_value_heads);
    R1_CHECK(num_attention_heads % num_key_value_heads == 0, o, ": key 'num_key_value_heads': num_attention_heads (",
             num_attention_heads, ") must be a multiple of it (", num_key_value_heads, ")");
    R1_CHECK(head_dim % 2 == 0, o, ": key 'head_dim': must be even, got ", head_dim);
  }
}

bool ModelConfig::is_moe_layer(int64_t layer) const {
  return n_routed_experts > 0 && layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
}

double ModelConfig::attention_scale() const {
  if (!is_mla()) return 1.0 / std::sqrt(static_cast<double>(head_dim));
  double scale = 1.0 / std::sqrt(static_cast<double>(qk_head_dim()));
  if (arch == Architecture::kDeepseekV3 && rope.rope_type != "default" && rope.mscale_all_dim != 0) {
    const double m = yarn_mscale(rope.factor, rope.mscale_all_dim);
    scale *= m * m;
  }
  return scale;
}

std::string ModelConfig::to_json() const {
  validate();
  Document d;
  if (!source_json.empty()) {
    d = json::parse(source_json, origin.empty() ? "config" : origin, true);
  }
  if (!d.IsObject()) d.SetObject();
  Value& o = d;

  // architectures: keep a list whose first entry is our class.
  {
    Value arr(rapidjson::kArrayType);
    arr.PushBack(Value(architecture.c_str(), d.GetAllocator()), d.GetAllocator());
    const Value* old = json::find(o, "architectures");
    if (!(old && old->IsArray() && old->Size() >= 1 && old->GetArray()[0].IsString() &&
          architecture == old->GetArray()[0].GetString()))
      put(d, o, "architectures", std::move(arr));
  }
  put_string(d, o, "model_type", model_type);
  put_int(d, o, "vocab_size", vocab_size);
  put_int(d, o, "hidden_size", hidden_size);
  put_int(d, o, "intermediate_size", intermediate_size);
  put_int(d, o, "num_hidden_layers", num_hidden_layers);
  put_int(d, o, "num_attention_heads", num_attention_heads);
  put_int(d, o, "num_key_value_heads", num_key_value_heads);
  put_double(d, o, "rms_norm_eps", rms_norm_eps);
  put_int(d, o, "max_position_embeddings", max_position_embeddings);
  put_bool(d, o, "tie_word_embeddings", tie_word_embeddings);
  put_string(d, o, "hidden_act", hidden_act);
  put_double(d, o, "initializer_range", initializer_range);
  put_optional_int(d, o, "bos_token_id", bos_token_id);
  put_optional_int(d, o, "pad_token_id", pad_token_id);
  put_int_list(d, o, "eos_token_id", eos_token_id);
  if (is_sequence_classifier()) write_labels(d, o, num_labels);
  if (!dtype.empty()) put_string(d, o, json::find(o, "torch_dtype") && !json::find(o, "dtype") ? "torch_dtype" : "dtype", dtype);

  if (is_mla()) {
    put_int(d, o, "head_dim", head_dim);
    put_int(d, o, "kv_lora_rank", kv_lora_rank);
    put_optional_int(d, o, "q_lora_rank", q_lora_rank > 0 ? std::optional<int64_t>(q_lora_rank) : std::nullopt);
    put_int(d, o, "qk_nope_head_dim", qk_nope_head_dim);
    put_int(d, o, "qk_rope_head_dim", qk_rope_head_dim);
    if (json::find(o, "qk_head_dim")) put_int(d, o, "qk_head_dim", qk_head_dim());
    put_int(d, o, "v_head_dim", v_head_dim);
    put_bool(d, o, "attention_bias", attention_bias);
    if (arch == Architecture::kDeepseekV3) put_bool(d, o, "rope_interleave", rope_interleave);
    if (arch == Architecture::kDeepseekV2 && (mlp_bias || json::find(o, "mlp_bias"))) put_bool(d, o, "mlp_bias", mlp_bias);
    put_int(d, o, "n_routed_experts", n_routed_experts);
    put_int(d, o, "n_shared_experts", n_shared_experts);
    put_int(d, o, "num_experts_per_tok", num_experts_per_tok);
    put_int(d, o, "moe_intermediate_size", moe_intermediate_size);
    put_int(d, o, "first_k_dense_replace", first_k_dense_replace);
    if (moe_layer_freq != 1 || json::find(o, "moe_layer_freq")) put_int(d, o, "moe_layer_freq", moe_layer_freq);
    put_int(d, o, "n_group", n_group);
    put_int(d, o, "topk_group", topk_group);
    put_bool(d, o, "norm_topk_prob", norm_topk_prob);
    put_double(d, o, "routed_scaling_factor", routed_scaling_factor);
    if (arch == Architecture::kDeepseekV2 || json::find(o, "topk_method")) put_string(d, o, "topk_method", topk_method);
    if (json::find(o, "scoring_func")) put_string(d, o, "scoring_func", scoring_func);
    if (arch == Architecture::kDeepseekV3) put_int(d, o, "num_nextn_predict_layers", num_nextn_predict_layers);
  } else {
    if (json::find(o, "head_dim") || head_dim * num_attention_heads != hidden_size) put_int(d, o, "head_dim", head_dim);
    if (arch == Architecture::kLlama) {
      put_bool(d, o, "attention_bias", attention_bias);
      put_bool(d, o, "mlp_bias", mlp_bias);
    }
  }

  // RoPE in the dialect of the source file (transformers 5 dialect for configs made in code).
  const Value* rp = json::find(o, "rope_parameters");
  const bool old_dialect = !(rp && rp->IsObject()) && (json::find(o, "rope_scaling") || json::find(o, "rope_theta"));
  if (old_dialect) {
    put_double(d, o, "rope_theta", rope.rope_theta);
    if (rope.rope_type == "default") {
      const Value* rs = json::find(o, "rope_scaling");
      if (!(rs && rs->IsNull())) put(d, o, "rope_scaling", Value(rapidjson::kNullType));
    } else {
      write_rope_fields(d, object_member(d, o, "rope_scaling"), rope, /*with_theta=*/false);
    }
  } else {
    write_rope_fields(d, object_member(d, o, "rope_parameters"), rope, /*with_theta=*/true);
  }
  return json::dump(d, /*pretty=*/true) + "\n";
}

std::string ModelConfig::summary() const {
  std::ostringstream s;
  s << architecture << " (" << model_type << "): " << num_hidden_layers << " layers, hidden " << hidden_size
    << ", vocab " << vocab_size << ", " << num_attention_heads << " heads";
  if (is_mla()) {
    s << "\n  MLA: q_lora_rank " << (q_lora_rank > 0 ? std::to_string(q_lora_rank) : std::string("none"))
      << ", kv_lora_rank " << kv_lora_rank << ", qk_nope " << qk_nope_head_dim << ", qk_rope " << qk_rope_head_dim
      << ", v " << v_head_dim << (rope_interleave ? ", interleaved RoPE" : "");
    if (has_moe()) {
      s << "\n  MoE: " << n_routed_experts << " routed experts (top-" << num_experts_per_tok << ", " << scoring_func
        << ", " << n_group << " groups / top-" << topk_group << ")"
        << ", " << n_shared_experts << " shared, width " << moe_intermediate_size << ", first " << first_k_dense_replace
        << " layers dense (width " << intermediate_size << "), routed_scaling_factor " << routed_scaling_factor
        << (norm_topk_prob ? ", normalised top-k" : "");
    } else {
      s << "\n  dense MLP width " << intermediate_size;
    }
    if (num_nextn_predict_layers > 0) s << "\n  MTP modules: " << num_nextn_predict_layers;
  } else {
    s << " (" << num_key_value_heads << " KV heads, head_dim " << head_dim << ")"
      << (has_qkv_bias() ? ", q/k/v bias" : "") << "\n  MLP width " << intermediate_size;
  }
  if (is_sequence_classifier()) {
    s << "\n  sequence-classification head: " << num_labels << " label" << (num_labels == 1 ? "" : "s")
      << ", read at the last token != pad_token_id ("
      << (pad_token_id ? std::to_string(*pad_token_id) : std::string("none: one row per batch")) << ")";
  }
  s << "\n  RoPE: " << rope.rope_type << ", theta " << rope.rope_theta;
  if (rope.rope_type != "default") s << ", factor " << rope.factor;
  if (rope.original_max_position_embeddings > 0) s << ", original context " << rope.original_max_position_embeddings;
  s << "\n  max_position_embeddings " << max_position_embeddings << ", rms_norm_eps " << rms_norm_eps
    << (tie_word_embeddings ? ", tied embeddings" : "") << ", attention scale " << attention_scale();
  return s.str();
}

}  // namespace r1::model
