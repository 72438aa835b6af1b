// The language table (see languages.h). Flags: python -B keeps __pycache__ out of the work dir; g++/gcc
// use -pipe so only the final binary touches the tmpfs; -O2 and gnu++17 are what competitive judges use.
#include "sandbox/languages.h"

#include <algorithm>
#include <cctype>

namespace r1::sandbox {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

}  // namespace

const std::vector<Language>& languages() {
  static const std::vector<Language> table = {
      {"python", {"py", "python3"}, "main.py", {}, {"/usr/bin/python3", "-B", "main.py"}, true},
      {"cpp",
       {"c++", "cxx", "cc", "g++"},
       "main.cpp",
       {"/usr/bin/g++", "-std=gnu++17", "-O2", "-pipe", "-o", "main", "main.cpp"},
       {"./main"}},
      {"c", {"gcc"}, "main.c", {"/usr/bin/gcc", "-std=gnu11", "-O2", "-pipe", "-o", "main", "main.c", "-lm"}, {"./main"}},
      {"bash", {"sh", "shell"}, "main.sh", {}, {"/bin/bash", "main.sh"}},
  };
  return table;
}

const Language* find_language(const std::string& name) {
  const std::string key = lower(name);
  for (const Language& lang : languages()) {
    if (lang.name == key) return &lang;
    if (std::find(lang.aliases.begin(), lang.aliases.end(), key) != lang.aliases.end()) return &lang;
  }
  return nullptr;
}

std::string language_list() {
  std::string out;
  for (const Language& lang : languages()) {
    if (!out.empty()) out += ", ";
    out += lang.name;
    if (!lang.aliases.empty()) {
      out += " (";
      for (size_t i = 0; i < lang.aliases.size(); ++i) out += (i ? ", " : "") + lang.aliases[i];
      out += ")";
    }
  }
  return out;
}

}  // namespace r1::sandbox
