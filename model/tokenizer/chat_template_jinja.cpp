// ChatTemplate::jinja(): each built-in family written as a Jinja template that HF transformers'
// apply_chat_template (a sandboxed Jinja2 environment with trim_blocks and lstrip_blocks) renders exactly as
// render() does. The templates are r1's own text, built from the template's parameters (BOS fallback, default
// system prompt, whether reasoning is dropped, the generation prompt, the Llama 3.1 dates), and laid out with
// `{%-` / `{{-` on every line so that indentation and line breaks of the source never reach the output.
//
// Recognition is part of the contract: recognize() reads a family from its markers and its parameters from
// literal text (ChatML's default system prompt as '<|im_start|>system\n...<|im_end|>', the Llama 3.1
// knowledge cutoff after "Cutting Knowledge Date: ", its date in `set date_string = "..."`), so the texts
// below keep those literals in that shape and never mention a marker of another variant (the DeepSeek-V3
// template must not contain the R1 reasoning close tag, for instance).
#include <string>

#include "model/tokenizer/chat_template.h"

namespace r1::model {
namespace {

constexpr const char* kRoleCheck =
    "{%- for message in messages %}\n"
    "    {%- if message['role'] not in ['system', 'user', 'assistant'] %}\n"
    "        {{- raise_exception('chat template NAME: message ' ~ loop.index0 ~ ' has role ' ~ message['role'] ~ "
    "'; supported: system, user, assistant') }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n";

// A Jinja string literal in single quotes holding `text`.
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (const char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
  return out + "'";
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

// The opening comment and the role check shared by every family.
std::string preamble(const std::string& name) {
  return "{#- chat template '" + name + "', written by r1 (model/tokenizer/chat_template_jinja.cpp) #}\n" +
         replace_all(kRoleCheck, "NAME", name);
}

// Prints bos_token as the tokenizer gives it, or `fallback` (the template's own BOS) when it has none.
std::string print_bos(const std::string& fallback, const std::string& indent) {
  return indent + "{%- if bos_token %}\n" + indent + "    {{- bos_token }}\n" + indent + "{%- else %}\n" + indent +
         "    {{- " + quoted(fallback) + " }}\n" + indent + "{%- endif %}\n";
}

std::string generation_prompt_block(const std::string& prompt) {
  return "{%- if add_generation_prompt %}\n    {{- " + quoted(prompt) + " }}\n{%- endif %}";
}

std::string deepseek_jinja(const ChatTemplate& t) {
  std::string s = preamble(t.name());
  s += "{%- set ns = namespace(system='', first=true) %}\n"
       "{%- for message in messages %}\n"
       "    {%- if message['role'] == 'system' %}\n"
       "        {%- if not ns.first %}\n"
       "            {%- set ns.system = ns.system + '\\n\\n' %}\n"
       "        {%- endif %}\n"
       "        {%- set ns.system = ns.system + message['content'] %}\n"
       "        {%- set ns.first = false %}\n"
       "    {%- endif %}\n"
       "{%- endfor %}\n";
  s += print_bos(t.bos_token, "");
  s += "{{- ns.system }}\n"
       "{%- for message in messages %}\n"
       "    {%- if message['role'] == 'user' %}\n"
       "        {{- '<｜User｜>' + message['content'] }}\n"
       "    {%- elif message['role'] == 'assistant' %}\n"
       "        {%- set content = message['content'] %}\n";
  if (t.drop_reasoning) {
    s += "        {%- if not loop.last %}\n"
         "            {%- set content = content.split('</think>')[-1] %}\n"
         "        {%- endif %}\n";
  }
  s += "        {{- '<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>' }}\n"
       "    {%- endif %}\n"
       "{%- endfor %}\n";
  return s + generation_prompt_block(t.generation_prompt());
}

std::string chatml_jinja(const ChatTemplate& t) {
  std::string s = preamble(t.name());
  s += "{%- if messages and messages[0]['role'] == 'system' %}\n"
       "    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n";
  if (!t.default_system.empty()) {
    s += "{%- else %}\n    {{- " + quoted("<|im_start|>system\n" + t.default_system + "<|im_end|>\n") + " }}\n";
  }
  s += "{%- endif %}\n"
       "{%- for message in messages %}\n"
       "    {%- if not (loop.first and message['role'] == 'system') %}\n"
       "        {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}\n"
       "    {%- endif %}\n"
       "{%- endfor %}\n";
  return s + generation_prompt_block(t.generation_prompt());
}

std::string llama3_jinja(const ChatTemplate& t) {
  std::string s = preamble(t.name());
  const std::string turn =
      "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + (message['content'] | trim) + "
      "'<|eot_id|>'";
  if (t.knowledge_preamble) {
    s += "{%- set date_string = \"" + t.date_string + "\" %}\n"
         "{%- if messages and messages[0]['role'] == 'system' %}\n"
         "    {%- set system = messages[0]['content'] | trim %}\n"
         "    {%- set rest = messages[1:] %}\n"
         "{%- else %}\n"
         "    {%- set system = '' %}\n"
         "    {%- set rest = messages %}\n"
         "{%- endif %}\n";
    s += print_bos(t.bos_token, "");
    s += "{{- " + quoted("<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: " + t.knowledge_cutoff +
                         "\nToday Date: ") +
         " + date_string + '\\n\\n' + system + '<|eot_id|>' }}\n"
         "{%- for message in rest %}\n"
         "    {{- " + turn + " }}\n"
         "{%- endfor %}\n";
  } else {
    s += "{%- for message in messages %}\n"
         "    {%- if loop.first %}\n" +
         print_bos(t.bos_token, "        ") +
         "    {%- endif %}\n"
         "    {{- " + turn + " }}\n"
         "{%- endfor %}\n";
  }
  return s + generation_prompt_block(t.generation_prompt());
}

}  // namespace

std::string ChatTemplate::jinja() const {
  switch (family_) {
    case ChatFamily::kDeepSeek:
      return deepseek_jinja(*this);
    case ChatFamily::kChatML:
      return chatml_jinja(*this);
    case ChatFamily::kLlama3:
      return llama3_jinja(*this);
  }
  return "";
}

}  // namespace r1::model
