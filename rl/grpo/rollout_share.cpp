// See rollout_share.h. Letters: n prompts of the rollout, G completions per prompt, W ranks.
#include "rl/grpo/rollout_share.h"

#include <cstring>

#include "common/error.h"

namespace r1::rl {
namespace {

// Plain little-endian-as-the-host bytes: the ranks of one job run the same build.
class ByteWriter {
 public:
  template <class T>
  void put(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<uint64_t>(s.size()));
    out_ += s;
  }
  template <class T>
  void put_vector(const std::vector<T>& v) {
    put(static_cast<uint64_t>(v.size()));
    out_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class ByteReader {
 public:
  explicit ByteReader(const std::string& in) : in_(in) {}
  bool done() const { return pos_ == in_.size(); }
  template <class T>
  T get() {
    T v;
    read(&v, sizeof(T));
    return v;
  }
  std::string get_string() {
    std::string s(length(1), '\0');
    read(s.data(), s.size());
    return s;
  }
  template <class T>
  std::vector<T> get_vector() {
    std::vector<T> v(length(sizeof(T)));
    read(v.data(), v.size() * sizeof(T));
    return v;
  }

 private:
  // A count of `item`-byte elements, checked against the bytes left before anything is allocated for it.
  size_t length(size_t item) {
    const uint64_t n = get<uint64_t>();
    R1_CHECK(n <= (in_.size() - pos_) / item, "GRPO: a rank's completions announce ", n, " elements with ",
             in_.size() - pos_, " bytes left (internal error: the ranks run different builds?)");
    return static_cast<size_t>(n);
  }
  void read(void* dst, size_t n) {
    R1_CHECK(n <= in_.size() - pos_, "GRPO: a rank's completions end after ", pos_, " of ", in_.size(),
             " bytes (internal error: the ranks run different builds?)");
    std::memcpy(dst, in_.data() + pos_, n);
    pos_ += n;
  }
  const std::string& in_;
  size_t pos_ = 0;
};

}  // namespace

std::string encode_completions(const std::vector<Completion>& completions) {
  ByteWriter w;
  w.put(static_cast<uint64_t>(completions.size()));
  for (const Completion& c : completions) {
    w.put_vector(c.generation.tokens);
    w.put_vector(c.generation.logprobs);
    w.put(static_cast<int32_t>(c.generation.finish));
    w.put(c.score.value);
    w.put(static_cast<uint64_t>(c.score.components.size()));
    for (const auto& [name, value] : c.score.components) {
      w.put_string(name);
      w.put(value);
    }
    w.put_string(c.score.reason);
  }
  return w.take();
}

std::vector<Completion> decode_completions(const std::string& bytes, const model::Tokenizer& tok) {
  ByteReader r(bytes);
  std::vector<Completion> out(static_cast<size_t>(r.get<uint64_t>()));
  for (Completion& c : out) {
    c.generation.tokens = r.get_vector<int64_t>();
    c.generation.logprobs = r.get_vector<float>();
    c.generation.finish = static_cast<model::FinishReason>(r.get<int32_t>());
    c.score.value = r.get<double>();
    c.score.components.resize(static_cast<size_t>(r.get<uint64_t>()));
    for (auto& [name, value] : c.score.components) {
      name = r.get_string();
      value = r.get<double>();
    }
    c.score.reason = r.get_string();
    c.text = completion_text(tok, c.generation);
  }
  R1_CHECK(r.done(), "GRPO: a rank's completions have ", bytes.size(), " bytes, more than they hold (internal error)");
  return out;
}

Rollout generate_shared_rollout(const dist::World& world, const Policy& policy, const PromptRenderer& renderer,
                                const std::vector<const data::PromptExample*>& prompts, int64_t group_size,
                                const SamplingConfig& sampling, uint64_t seed,
                                const std::function<void(Rollout&)>& score) {
  const int64_t n = static_cast<int64_t>(prompts.size());
  const auto [first, end] = world.share(n);
  Rollout mine;
  if (end > first) {
    const std::vector<const data::PromptExample*> share(prompts.begin() + first, prompts.begin() + end);
    mine = generate_rollout(policy, renderer, share, group_size, sampling, seed, first, n);
    score(mine);
  }
  const std::vector<std::string> parts = world.all_gather_bytes(encode_completions(mine.completions));
  Rollout all;
  all.prompts = prompts;
  all.group_size = group_size;
  all.generate_s = mine.generate_s;
  all.reward_s = mine.reward_s;
  std::vector<std::vector<int64_t>> prompt_ids;
  for (const auto* ex : prompts) {
    all.prompt_texts.push_back(renderer.text(*ex));
    prompt_ids.push_back(renderer.ids(*ex));
  }
  for (const std::string& part : parts) {
    for (Completion& c : decode_completions(part, *policy.tokenizer)) {
      c.prompt_index = all.completions.size() / static_cast<size_t>(group_size);
      c.prompt_ids = prompt_ids.at(c.prompt_index);
      all.generated_tokens += static_cast<int64_t>(c.generation.tokens.size());
      all.completions.push_back(std::move(c));
    }
  }
  R1_CHECK(static_cast<int64_t>(all.completions.size()) == n * group_size, "GRPO: the ranks returned ",
           all.completions.size(), " completions for ", n, " prompts x ", group_size, " (internal error)");
  return all;
}

}  // namespace r1::rl
