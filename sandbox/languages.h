// The language table: how a source text becomes a running process inside the sandbox. Adding a language
// is one entry in languages.cpp: the main file name, an optional compile command and the run command.
//
// Commands are absolute paths of the host's Debian packages (/usr is bind-mounted read-only inside the
// sandbox), never looked up through the caller's PATH: a pyenv shim or a venv of the caller would not
// exist inside. Compiled languages build in the sandbox itself under Request::compile_limits, so a
// hostile program cannot use the compiler (#include "/dev/zero", template bombs) against the host.
#pragma once

#include <string>
#include <vector>

namespace r1::sandbox {

struct Language {
  std::string name;                       // canonical name: "python", "cpp", "c", "bash"
  std::vector<std::string> aliases;       // other accepted names, also fenced-block tags ("py", "c++")
  std::string source_file;                // the main file in the work dir
  std::vector<std::string> compile_argv;  // empty: interpreted
  std::vector<std::string> run_argv;      // argv of each run; the request's args are appended
  // May run in the helper server's warm interpreter instead of exec (helper/python_zygote.h); only for
  // the entry whose run_argv is /usr/bin/python3 -B main.py, which is what the zygote emulates.
  bool python_zygote = false;
};

// Finds a language by name or alias (case-insensitive); nullptr when unknown.
const Language* find_language(const std::string& name);

// All languages, in table order.
const std::vector<Language>& languages();

// "python (py, python3), cpp (c++, ...), ..." for help texts and errors.
std::string language_list();

}  // namespace r1::sandbox
