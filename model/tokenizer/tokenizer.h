// Tokenizers: one interface over Hugging Face tokenizer.json files (byte-level BPE and its relatives)
// and sentencepiece .model files, plus the files that travel with a tokenizer (tokenizer_config.json,
// special_tokens_map.json, chat templates).
//
// This is what the generator, the trainers and the CLI call; the signatures below are kept stable.
// encode() gives exactly the ids the reference libraries give (HF `tokenizers` for tokenizer.json,
// libsentencepiece for .model) — the fixtures under tests/fixtures/tokenizers check that id for id.
// decode() gives the reference text; like HF it returns valid UTF-8 (bytes that do not form a character,
// e.g. half of a CJK character cut by a max-new-tokens limit, become U+FFFD).
//
// What it is not: a trainer, an offsets/alignment API, or a Jinja engine (chat templates are built in,
// see chat_template.h). Departures from the reference: decode() of an id outside the vocabulary throws
// (HF silently drops it); encode() accepts invalid UTF-8 (HF cannot be given it): byte-level tokenizers
// encode those bytes as byte tokens, so decode() gives them back as U+FFFD.
//
// Thread safety: a loaded Tokenizer is immutable apart from an internal, locked cache; encode() and
// decode() may be called from many threads at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace r1::model {

// What tokenizer_config.json (or special_tokens_map.json, chat_template.jinja) says. All optional.
struct TokenizerConfig {
  std::optional<std::string> bos_token, eos_token, pad_token, unk_token;
  std::optional<bool> add_bos_token, add_eos_token;  // honoured by encode(add_special_tokens=true)
  std::string chat_template;  // the Jinja text, "" when none; chat_template.h recognises its family
  std::string origin;         // the file the settings came from ("" when none), for error messages
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Loads a tokenizer.json, a sentencepiece .model, or a directory holding either (tokenizer.json
  // wins), together with tokenizer_config.json / special_tokens_map.json / chat_template.jinja found
  // next to it. Throws r1::Error naming the file and the key for anything malformed or unsupported.
  static std::unique_ptr<Tokenizer> load(const std::string& path);
  // A tokenizer.json given as text (no config files); `origin` names it in errors.
  static std::unique_ptr<Tokenizer> from_tokenizer_json(std::string_view json_text, const std::string& origin,
                                                        TokenizerConfig config = {});

  // Text → ids. add_special_tokens applies the tokenizer's post-processor (e.g. Llama 3 and
  // DeepSeek-V3 prepend BOS; Qwen2 adds nothing) or, for sentencepiece, add_bos_token/add_eos_token.
  // parse_special=false treats special tokens written in the text as plain text (HF's
  // encode_special_tokens=True); use it for untrusted text that must not inject control tokens.
  virtual std::vector<int64_t> encode(std::string_view text, bool add_special_tokens = false,
                                      bool parse_special = true) const = 0;

  // Ids → text. Throws r1::Error for an id outside the vocabulary.
  std::string decode(const std::vector<int64_t>& ids, bool skip_special_tokens = false) const {
    return decode_range(ids.data(), ids.size(), skip_special_tokens);
  }
  // The same on a sub-range, without copying.
  virtual std::string decode_range(const int64_t* ids, size_t n, bool skip_special_tokens) const = 0;

  // Incremental decoding: the text that ids[from:] add after the text of ids[:from]. Decodes a few
  // tokens of left context instead of the whole prefix, so the cost does not grow with the prefix.
  // A character whose bytes straddle `from` belongs to the suffix. Holding back an incomplete character
  // at the end is the job of StreamDecoder below.
  std::string decode_suffix(const std::vector<int64_t>& ids, size_t from, bool skip_special_tokens = false) const;

  // One more than the largest id (ids may have holes: such ids fail in decode()).
  virtual int64_t vocab_size() const = 0;
  virtual std::optional<int64_t> token_to_id(std::string_view token) const = 0;
  // The vocabulary string of an id (byte-level form, e.g. "Ġworld"); throws for an unknown id.
  virtual std::string id_to_token(int64_t id) const = 0;
  // Special (control) tokens: HF added tokens marked "special", sentencepiece control/unknown pieces.
  virtual bool is_special(int64_t id) const = 0;

  std::optional<int64_t> bos_id() const { return bos_id_; }
  std::optional<int64_t> eos_id() const { return eos_id_; }
  std::optional<int64_t> pad_id() const { return pad_id_; }
  const TokenizerConfig& config() const { return config_; }
  // "tokenizer.json" or "sentencepiece".
  virtual const char* kind() const = 0;
  // The file the vocabulary was read from.
  const std::string& source() const { return source_; }

 protected:
  // Resolves bos/eos/pad ids from the config's token strings (called by the loaders).
  void resolve_special_ids(std::optional<int64_t> default_bos, std::optional<int64_t> default_eos,
                           std::optional<int64_t> default_pad);

  TokenizerConfig config_;
  std::string source_;
  std::optional<int64_t> bos_id_, eos_id_, pad_id_;
};

// Streaming detokeniser for generation: push ids one at a time, get the new text. Text that ends in an
// incomplete character (a U+FFFD at the end that later tokens may complete) is held back for up to
// three tokens; flush() returns whatever is held.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false)
      : tok_(tokenizer), skip_special_(skip_special_tokens) {}
  std::string push(int64_t id);
  std::string flush();
  const std::vector<int64_t>& ids() const { return ids_; }

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  std::vector<int64_t> ids_;
  size_t prefix_offset_ = 0;  // start of the context window
  size_t read_offset_ = 0;    // first id whose text has not been returned yet
};

// Reads tokenizer_config.json (+ special_tokens_map.json, chat_template.jinja / chat_template.json) from
// a directory; missing files give an empty config.
TokenizerConfig read_tokenizer_config(const std::string& dir);

// The files a tokenizer may consist of (HF fast and slow tokenizers, chat templates): tokenizer.json,
// tokenizer.model, tokenizer_config.json, special_tokens_map.json, chat_template.jinja,
// chat_template.json, added_tokens.json, vocab.json, merges.txt.
extern const std::vector<std::string> kTokenizerFiles;

// Copies the kTokenizerFiles present in src_dir byte for byte into dst_dir (created if needed; each write
// atomic and fsync'ed); returns the names copied, in kTokenizerFiles order. Throws when src_dir is not a
// directory or holds neither tokenizer.json nor tokenizer.model.
std::vector<std::string> copy_tokenizer_files(const std::string& src_dir, const std::string& dst_dir);

// A byte-level BPE tokenizer.json with no merges: ids 0..255 are the 256 bytes (GPT-2's printable byte
// alphabet, so id == byte value), then the given special tokens in order (ids 256, 257, ...). Valid for
// HF `tokenizers`; the built-in tiny pipeline uses it for its tiny model.
std::string make_byte_level_tokenizer_json(const std::vector<std::string>& special_tokens);

}  // namespace r1::model
