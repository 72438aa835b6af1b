// See chat_template.h. Rendering appends (text, trainable) pieces to a builder that merges neighbours
// with the same flag; render() is the concatenation of render_segments(), so the string and the mask
// can never disagree.
#include "model/tokenizer/chat_template.h"

#include "common/error.h"
#include "model/tokenizer/tokenizer_utf8.h"

namespace r1::model {
namespace {

constexpr const char* kDeepSeekBos = "<｜begin▁of▁sentence｜>";
constexpr const char* kDeepSeekEos = "<｜end▁of▁sentence｜>";
constexpr const char* kDeepSeekUser = "<｜User｜>";
constexpr const char* kDeepSeekAssistant = "<｜Assistant｜>";
constexpr const char* kLlamaBos = "<|begin_of_text|>";
constexpr const char* kQwenSystem = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";

class Builder {
 public:
  void add(const std::string& text, bool trainable) {
    if (text.empty()) return;
    if (!segments_.empty() && segments_.back().trainable == trainable) segments_.back().text += text;
    else segments_.push_back({text, trainable});
  }
  std::vector<ChatSegment> take() { return std::move(segments_); }

 private:
  std::vector<ChatSegment> segments_;
};

bool contains(const std::string& s, const char* needle) { return s.find(needle) != std::string::npos; }

[[noreturn]] void bad_role(const std::string& name, size_t index, const std::string& role) {
  fail("chat template '", name, "': message ", index, " has role '", role,
       "'; the built-in templates support system, user and assistant");
}

void check_roles(const std::string& name, const std::vector<ChatMessage>& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant") bad_role(name, i, r);
  }
}

// Unescapes a Jinja string literal body (\n, \t, \\, \', \").
std::string jinja_unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      const char e = s[++i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e;
    } else {
      out += s[i];
    }
  }
  return out;
}

// ChatML: the literal default system prompt '<|im_start|>system\n...<|im_end|>' if the template has one.
std::string chatml_default_system(const std::string& jinja) {
  const std::string open = "<|im_start|>system\\n";
  for (size_t at = jinja.find(open); at != std::string::npos; at = jinja.find(open, at + 1)) {
    const size_t begin = at + open.size();
    const size_t end = jinja.find("<|im_end|>", begin);
    if (end == std::string::npos) break;
    const std::string body = jinja.substr(begin, end - begin);
    if (body.find_first_of("'\"{}+") == std::string::npos) return jinja_unescape(body);
  }
  return "";
}

// The text between `open` and the next of the `close` characters (or "").
std::string literal_after(const std::string& s, const std::string& open, const char* close) {
  const size_t at = s.find(open);
  if (at == std::string::npos) return "";
  const size_t begin = at + open.size();
  const size_t end = s.find_first_of(close, begin);
  return end == std::string::npos ? "" : s.substr(begin, end - begin);
}

// Text after the last "</think>" (the whole text when there is none).
std::string after_reasoning(const std::string& content) {
  const size_t at = content.rfind("</think>");
  return at == std::string::npos ? content : content.substr(at + 8);
}

}  // namespace

ChatTemplate::ChatTemplate(ChatFamily family, std::string name) : family_(family), name_(std::move(name)) {
  switch (family) {
    case ChatFamily::kDeepSeek:
      end_of_turn_ = kDeepSeekEos;
      bos_token = kDeepSeekBos;
      break;
    case ChatFamily::kChatML:
      end_of_turn_ = "<|im_end|>";
      break;
    case ChatFamily::kLlama3:
      end_of_turn_ = "<|eot_id|>";
      bos_token = kLlamaBos;
      break;
  }
}

std::vector<std::string> ChatTemplate::names() {
  return {"deepseek-r1", "deepseek-v3", "qwen", "chatml", "llama3", "llama3.1"};
}

ChatTemplate ChatTemplate::by_name(const std::string& name, const std::optional<std::string>& bos) {
  std::optional<ChatTemplate> t;
  if (name == "deepseek-r1" || name == "r1" || name == "deepseek") {
    t = ChatTemplate(ChatFamily::kDeepSeek, "deepseek-r1");
    t->drop_reasoning = true;
    t->open_think = true;
  } else if (name == "deepseek-v3") {
    t = ChatTemplate(ChatFamily::kDeepSeek, "deepseek-v3");
  } else if (name == "qwen" || name == "qwen2.5") {
    t = ChatTemplate(ChatFamily::kChatML, "qwen");
    t->default_system = kQwenSystem;
  } else if (name == "chatml") {
    t = ChatTemplate(ChatFamily::kChatML, "chatml");
  } else if (name == "llama3" || name == "llama-3") {
    t = ChatTemplate(ChatFamily::kLlama3, "llama3");
  } else if (name == "llama3.1" || name == "llama-3.1") {
    t = ChatTemplate(ChatFamily::kLlama3, "llama3.1");
    t->knowledge_preamble = true;
  } else {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    fail("unknown chat template '", name, "' (built in: ", known, ")");
  }
  if (bos && t->family() != ChatFamily::kChatML) t->bos_token = *bos;
  return *t;
}

std::optional<ChatTemplate> ChatTemplate::recognize(const std::string& jinja, const std::optional<std::string>& bos) {
  std::optional<ChatTemplate> t;
  if (contains(jinja, kDeepSeekUser) && contains(jinja, kDeepSeekAssistant)) {
    const bool drop = contains(jinja, "</think>");
    t = ChatTemplate(ChatFamily::kDeepSeek, drop ? "deepseek-r1" : "deepseek-v3");
    t->drop_reasoning = drop;
    t->open_think = contains(jinja, "<｜Assistant｜><think>");
  } else if (contains(jinja, "<|im_start|>")) {
    R1_CHECK(!contains(jinja, "enable_thinking") && !contains(jinja, "reasoning_content"),
             "chat template: a ChatML template with thinking switches (Qwen3 style) is not built in; name 'chatml' "
             "explicitly to render plain ChatML");
    t = ChatTemplate(ChatFamily::kChatML, "chatml");
    t->default_system = chatml_default_system(jinja);
    if (!t->default_system.empty()) t->name_ = "qwen";
  } else if (contains(jinja, "<|start_header_id|>") && contains(jinja, "<|eot_id|>")) {
    const bool preamble = contains(jinja, "Cutting Knowledge Date");
    t = ChatTemplate(ChatFamily::kLlama3, preamble ? "llama3.1" : "llama3");
    t->knowledge_preamble = preamble;
    if (preamble) {
      const std::string cutoff = literal_after(jinja, "Cutting Knowledge Date: ", "\\\"'");
      if (!cutoff.empty()) t->knowledge_cutoff = cutoff;
      const std::string date = literal_after(jinja, "set date_string = \"", "\"");
      if (!date.empty()) t->date_string = date;
    }
  } else {
    return std::nullopt;
  }
  if (bos && t->family() != ChatFamily::kChatML) t->bos_token = *bos;
  return t;
}

ChatTemplate ChatTemplate::resolve(const std::string& name, const Tokenizer& tokenizer) {
  const TokenizerConfig& config = tokenizer.config();
  const std::string origin = config.origin.empty() ? tokenizer.source() : config.origin;
  std::optional<ChatTemplate> t;
  if (name.empty() || name == "auto") {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    R1_CHECK(!config.chat_template.empty(), origin, ": the tokenizer has no chat_template; name a built-in one (",
             known, ")");
    t = recognize(config.chat_template, config.bos_token);
    R1_CHECK(t.has_value(), origin, ": chat_template not recognised (it has none of the markers <｜User｜>, ",
             "<|im_start|>, <|start_header_id|>); name a built-in one (", known, ")");
  } else {
    t = by_name(name, config.bos_token);
  }
  t->check_tokenizer(tokenizer);
  return *t;
}

bool ChatTemplate::same_as(const ChatTemplate& o) const {
  return family_ == o.family_ && name_ == o.name_ && end_of_turn_ == o.end_of_turn_ && bos_token == o.bos_token &&
         default_system == o.default_system && drop_reasoning == o.drop_reasoning && open_think == o.open_think &&
         knowledge_preamble == o.knowledge_preamble && knowledge_cutoff == o.knowledge_cutoff &&
         date_string == o.date_string;
}

void ChatTemplate::check_tokenizer(const Tokenizer& tokenizer) const {
  std::vector<std::string> markers = {end_of_turn_};
  if (!bos_token.empty()) markers.push_back(bos_token);
  switch (family_) {
    case ChatFamily::kDeepSeek:
      markers.insert(markers.end(), {kDeepSeekUser, kDeepSeekAssistant});
      break;
    case ChatFamily::kChatML:
      markers.emplace_back("<|im_start|>");
      break;
    case ChatFamily::kLlama3:
      markers.insert(markers.end(), {"<|start_header_id|>", "<|end_header_id|>"});
      break;
  }
  for (const std::string& m : markers) {
    const size_t n = tokenizer.encode(m).size();
    R1_CHECK(n == 1, "chat template '", name_, "': marker '", m, "' is not one token of ", tokenizer.source(),
             " (it encodes to ", n, " ids): the template does not fit this tokenizer. Either give the tokenizer the "
             "template's markers as special tokens (train_tokenizer's special_tokens, or byte_level_tokenizer's "
             "list), or train without a chat template: in an sft stage set \"prompt_template\" (e.g. \"plain\" or "
             "your own text with {prompt}) and give rows of one user and one assistant turn ({\"messages\": [...]} "
             "or {\"prompt\", \"completion\"})");
  }
}

std::string ChatTemplate::generation_prompt() const {
  switch (family_) {
    case ChatFamily::kDeepSeek:
      return std::string(kDeepSeekAssistant) + (open_think ? "<think>\n" : "");
    case ChatFamily::kChatML:
      return "<|im_start|>assistant\n";
    case ChatFamily::kLlama3:
      return "<|start_header_id|>assistant<|end_header_id|>\n\n";
  }
  return "";
}

std::vector<ChatSegment> ChatTemplate::render_segments(const std::vector<ChatMessage>& messages,
                                                      const ChatOptions& options) const {
  check_roles(name_, messages);
  Builder b;
  switch (family_) {
    case ChatFamily::kDeepSeek: {
      std::string system;
      bool first_system = true;
      for (const auto& m : messages) {
        if (m.role != "system") continue;
        system += (first_system ? "" : "\n\n") + m.content;
        first_system = false;
      }
      b.add(bos_token + system, false);
      for (size_t i = 0; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        if (m.role == "user") {
          b.add(kDeepSeekUser + m.content, false);
        } else if (m.role == "assistant") {
          const bool keep = !drop_reasoning || (options.keep_final_reasoning && i + 1 == messages.size());
          b.add(kDeepSeekAssistant, false);
          b.add((keep ? m.content : after_reasoning(m.content)) + kDeepSeekEos, true);
        }
      }
      break;
    }
    case ChatFamily::kChatML: {
      size_t first = 0;
      if (!messages.empty() && messages[0].role == "system") {
        b.add("<|im_start|>system\n" + messages[0].content + "<|im_end|>\n", false);
        first = 1;
      } else if (!default_system.empty()) {
        b.add("<|im_start|>system\n" + default_system + "<|im_end|>\n", false);
      }
      for (size_t i = first; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        b.add("<|im_start|>" + m.role + "\n", false);
        const bool assistant = m.role == "assistant";
        b.add(m.content + "<|im_end|>", assistant);
        b.add("\n", false);
      }
      break;
    }
    case ChatFamily::kLlama3: {
      size_t first = 0;
      if (knowledge_preamble) {
        std::string system;
        if (!messages.empty() && messages[0].role == "system") {
          system = utf8::python_strip(messages[0].content);
          first = 1;
        }
        b.add(bos_token + "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: " + knowledge_cutoff +
                  "\nToday Date: " + date_string + "\n\n" + system + "<|eot_id|>",
              false);
      }
      for (size_t i = first; i < messages.size(); ++i) {
        const ChatMessage& m = messages[i];
        const std::string bos = !knowledge_preamble && i == 0 ? bos_token : "";
        b.add(bos + "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n", false);
        const std::string content = utf8::python_strip(m.content) + "<|eot_id|>";
        b.add(content, m.role == "assistant");
      }
      break;
    }
  }
  if (options.add_generation_prompt) b.add(generation_prompt(), false);
  return b.take();
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, const ChatOptions& options) const {
  std::string out;
  for (const ChatSegment& s : render_segments(messages, options)) out += s.text;
  return out;
}

ChatTokens tokenize_chat(const Tokenizer& tokenizer, const std::vector<ChatSegment>& segments) {
  ChatTokens out;
  for (const ChatSegment& s : segments) {
    const std::vector<int64_t> ids = tokenizer.encode(s.text);
    out.ids.insert(out.ids.end(), ids.begin(), ids.end());
    out.trainable.insert(out.trainable.end(), ids.size(), s.trainable ? 1 : 0);
  }
  return out;
}

}  // namespace r1::model
