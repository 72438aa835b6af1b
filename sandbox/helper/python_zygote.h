// The Python zygote: a CPython interpreter initialised once in the helper's server process, so that a
// sandboxed Python program starts as a fork of a warm interpreter instead of a fresh `python3` exec.
//
// Why: on our 2-core VMs a bare `python3 -c pass` costs 40-70 ms of CPU (mostly page faults while the
// interpreter maps and initialises itself), which alone caps throughput near 30 runs/s; a fork of a warm
// interpreter costs a fraction of that. The isolation is unchanged: the program process is still forked
// by the sandbox's init inside fresh namespaces and goes through every confinement step of phase.cpp;
// only the final execve is replaced by running the script in the inherited interpreter.
//
// Fidelity to `python3 -B main.py ARGS`: the same Debian CPython and stdlib (/usr/bin/python3's prefix),
// site and sitecustomize imported, no bytecode writing, sys.executable = /usr/bin/python3, sys.argv and
// sys.path[0] = /work as for a script, os.environ and the C environment replaced by the job's, Python's
// own signal dispositions (SIGINT handler, SIGPIPE/SIGXFSZ ignored), traceback/SystemExit/exit-status
// handling of PyRun_SimpleFile + Py_FinalizeEx. Differences: the hash seed is the server's (one per
// server, not per run; PYTHONHASHSEED and other PYTHON* variables of the job have no effect), and modules
// the interpreter imported at start-up are already in sys.modules. Requests can opt out
// (Request::allow_zygote = false) to get a fresh exec.
//
// Built only when the build found the libpython of /usr/bin/python3 (R1_SANDBOX_PYTHON); otherwise
// available() is false and Python runs by exec.
#pragma once

#include <string>

namespace r1::sandbox::helper {

// Whether this helper was built with an embedded interpreter.
bool python_zygote_built();

// Initialises the interpreter (once, in the server, before any fork). False with *error on failure.
bool python_zygote_init(std::string* error);

// True in processes forked from an initialised server.
bool python_zygote_ready();

// In the confined program process: becomes `python3 -B argv[2] argv[3..]` with environment envp and
// exits with the script's status. argv is the python language's run_argv ("/usr/bin/python3", "-B",
// script, args...).
[[noreturn]] void python_zygote_run(char* const* argv, char* const* envp);

}  // namespace r1::sandbox::helper
