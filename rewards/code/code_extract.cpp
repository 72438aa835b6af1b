// See code_extract.h.
#include "rewards/code/code_extract.h"

#include <algorithm>
#include <cctype>

#include "sandbox/languages.h"

namespace r1::rewards {

namespace {

struct Fence {
  char ch = 0;
  size_t length = 0;
  std::string info;
};

// A fence line: up to 3 spaces, >= 3 of one fence char, then the info string (no backtick inside it for
// backtick fences).
std::optional<Fence> parse_fence(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  if (i >= line.size() || (line[i] != '`' && line[i] != '~')) return std::nullopt;
  Fence f;
  f.ch = line[i];
  while (i < line.size() && line[i] == f.ch) {
    ++f.length;
    ++i;
  }
  if (f.length < 3) return std::nullopt;
  std::string_view info = line.substr(i);
  if (f.ch == '`' && info.find('`') != std::string_view::npos) return std::nullopt;
  while (!info.empty() && std::isspace(static_cast<unsigned char>(info.front()))) info.remove_prefix(1);
  while (!info.empty() && std::isspace(static_cast<unsigned char>(info.back()))) info.remove_suffix(1);
  f.info = std::string(info);
  return f;
}

bool is_closing(std::string_view line, const Fence& open) {
  size_t i = 0;
  while (i < line.size() && i < 3 && line[i] == ' ') ++i;
  size_t n = 0;
  while (i < line.size() && line[i] == open.ch) {
    ++n;
    ++i;
  }
  if (n < open.length) return false;
  for (; i < line.size(); ++i) {
    if (!std::isspace(static_cast<unsigned char>(line[i]))) return false;
  }
  return true;
}

std::string tag_of(const std::string& info) {
  std::string tag;
  size_t i = 0;
  while (i < info.size() && (info[i] == '{' || info[i] == '.')) ++i;  // {.python} / .python
  for (; i < info.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(info[i]);
    if (std::isspace(c) || c == '}' || c == ',' || c == '{') break;
    tag += static_cast<char>(std::tolower(c));
  }
  return tag;
}

bool tag_matches(const std::string& tag, const std::string& language) {
  const sandbox::Language* lang = sandbox::find_language(language);
  if (lang == nullptr) return tag == language;
  const sandbox::Language* of_tag = sandbox::find_language(tag);
  return of_tag == lang;
}

}  // namespace

std::vector<CodeBlock> fenced_blocks(std::string_view text) {
  std::vector<CodeBlock> blocks;
  std::optional<Fence> open;
  CodeBlock current;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    const bool has_newline = end != std::string_view::npos;
    if (!has_newline) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    pos = has_newline ? end + 1 : end;
    if (!open) {
      if (auto f = parse_fence(line)) {
        open = f;
        current = CodeBlock();
        current.tag = tag_of(f->info);
      }
    } else if (is_closing(line, *open)) {
      blocks.push_back(std::move(current));
      open.reset();
    } else {
      current.code.append(line);
      current.code += '\n';
    }
  }
  if (open) {
    current.closed = false;
    blocks.push_back(std::move(current));
  }
  return blocks;
}

std::optional<std::string> extract_code(std::string_view completion, const ExtractOptions& options, std::string* why) {
  std::string_view text = completion;
  if (options.after_think) {
    const size_t think_end = text.rfind("</think>");
    if (think_end != std::string_view::npos) text = text.substr(think_end + 8);
  }
  if (options.mode == "whole") return std::string(text);
  const std::vector<CodeBlock> blocks = fenced_blocks(text);
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    if (!it->tag.empty() && tag_matches(it->tag, options.language)) return it->code;
  }
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    if (it->tag.empty()) return it->code;
  }
  if (options.mode == "auto" && blocks.empty()) {
    const bool blank = std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
    if (!blank) return std::string(text);
  }
  if (why != nullptr) {
    *why = blocks.empty() ? "no code in the completion" : "no " + options.language + " code block";
  }
  return std::nullopt;
}

}  // namespace r1::rewards
