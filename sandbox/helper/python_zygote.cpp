// See python_zygote.h.
#include "sandbox/helper/python_zygote.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#ifdef R1_SANDBOX_PYTHON
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#endif

namespace r1::sandbox::helper {

namespace {
bool g_ready = false;
}

#ifdef R1_SANDBOX_PYTHON

bool python_zygote_built() { return true; }

bool python_zygote_ready() { return g_ready; }

bool python_zygote_init(std::string* error) {
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.write_bytecode = 0;        // -B
  config.user_site_directory = 0;   // the sandbox's HOME has no ~/.local either
  config.parse_argv = 0;
  config.install_signal_handlers = 1;
  config.use_environment = 0;       // PYTHON* variables of whoever started the server do not count
  PyStatus status = PyConfig_SetString(&config, &config.program_name, L"/usr/bin/python3");
  if (!PyStatus_Exception(status)) status = PyConfig_SetString(&config, &config.executable, L"/usr/bin/python3");
  if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
  PyConfig_Clear(&config);
  if (PyStatus_Exception(status)) {
    *error = std::string("Python initialisation failed: ") + (status.err_msg ? status.err_msg : "unknown");
    return false;
  }
  g_ready = true;
  return true;
}

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "r1 sandbox (python zygote): %s\n", what);
  std::fflush(stderr);
  _exit(120);
}

PyObject* fs_string(const char* s) {
  PyObject* o = PyUnicode_DecodeFSDefault(s);
  if (o == nullptr) die("cannot decode an argument");
  return o;
}


// Set by the audit hook when the program opens a new file object on fd 1 or 2 (open(1, "w"), os.fdopen):
// such a wrapper may hold buffered output that only interpreter finalisation flushes.
bool g_std_reopened = false;

int watch_std_reopen(const char* event, PyObject* args, void*) {
  if (std::strcmp(event, "open") == 0 && PyTuple_Check(args) && PyTuple_GET_SIZE(args) > 0) {
    PyObject* target = PyTuple_GET_ITEM(args, 0);
    if (PyLong_Check(target)) {
      const long fd = PyLong_AsLong(target);
      if (fd == 1 || fd == 2) g_std_reopened = true;
      PyErr_Clear();
    }
  }
  return 0;
}

void call_if_loaded(const char* module, const char* function) {
  PyObject* m = PyImport_GetModule(PyUnicode_FromString(module));  // new ref or NULL; leaks one str: we exit
  if (m == nullptr) {
    PyErr_Clear();
    return;
  }
  PyObject* r = PyObject_CallMethod(m, function, nullptr);
  if (r == nullptr) PyErr_WriteUnraisable(m);
  Py_XDECREF(r);
  Py_DECREF(m);
}

bool flush_std(const char* name) {
  PyObject* f = PySys_GetObject(name);  // borrowed
  if (f == nullptr || f == Py_None) return true;
  PyObject* r = PyObject_CallMethod(f, "flush", nullptr);
  if (r == nullptr) {
    PyErr_WriteUnraisable(f);
    return false;
  }
  Py_DECREF(r);
  return true;
}

// The exit status of an uncaught exception, as `python3 script` computes it (and prints what it prints).
int status_of_exception() {
  if (!PyErr_ExceptionMatches(PyExc_SystemExit)) {
    PyErr_Print();
    return 1;
  }
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  PyObject* code = value != nullptr ? PyObject_GetAttrString(value, "code") : nullptr;
  int status = 0;
  if (code == nullptr || code == Py_None) {
    PyErr_Clear();
  } else if (PyLong_Check(code)) {
    status = static_cast<int>(PyLong_AsLong(code));
  } else {
    PyObject* sys_stderr = PySys_GetObject("stderr");
    if (sys_stderr != nullptr && sys_stderr != Py_None) {
      PyFile_WriteObject(code, sys_stderr, Py_PRINT_RAW);
      PyFile_WriteString("\n", sys_stderr);
    }
    PyErr_Clear();
    status = 1;
  }
  Py_XDECREF(code);
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(tb);
  return status;
}

}  // namespace

[[noreturn]] void python_zygote_run(char* const* argv, char* const* envp) {
  PyOS_AfterFork_Child();
  // argv = {"/usr/bin/python3", "-B", script, args...}
  if (argv[0] == nullptr || argv[1] == nullptr || argv[2] == nullptr) die("bad argv");
  const char* script = argv[2];
  if (PySys_AddAuditHook(watch_std_reopen, nullptr) != 0) die("audit hook");

  // The environment, through os.environ so that both Python's mapping and the C environment change.
  PyObject* os = PyImport_ImportModule("os");
  if (os == nullptr) die("import os failed");
  PyObject* environ_map = PyObject_GetAttrString(os, "environ");
  if (environ_map == nullptr) die("os.environ missing");
  PyObject* cleared = PyObject_CallMethod(environ_map, "clear", nullptr);
  if (cleared == nullptr) die("os.environ.clear failed");
  Py_DECREF(cleared);
  for (char* const* e = envp; *e != nullptr; ++e) {
    const char* eq = std::strchr(*e, '=');
    if (eq == nullptr) continue;
    const std::string name(*e, eq - *e);
    PyObject* k = fs_string(name.c_str());
    PyObject* v = fs_string(eq + 1);
    if (PyObject_SetItem(environ_map, k, v) != 0) die("setting os.environ failed");
    Py_DECREF(k);
    Py_DECREF(v);
  }
  Py_DECREF(environ_map);
  Py_DECREF(os);

  // sys.argv = [script, args...]; sys.path[0] = the script's directory (the work dir), as for a script.
  PyObject* list = PyList_New(0);
  for (char* const* a = argv + 2; *a != nullptr; ++a) {
    PyObject* s = fs_string(*a);
    PyList_Append(list, s);
    Py_DECREF(s);
  }
  if (PySys_SetObject("argv", list) != 0) die("setting sys.argv failed");
  Py_DECREF(list);
  char cwd[4096];
  if (getcwd(cwd, sizeof cwd) == nullptr) die("getcwd failed");
  PyObject* path = PySys_GetObject("path");  // borrowed
  PyObject* dir = fs_string(cwd);
  if (path == nullptr || PyList_Insert(path, 0, dir) != 0) die("setting sys.path failed");
  Py_DECREF(dir);

  const std::string full = std::string(cwd) + "/" + script;
  FILE* fp = std::fopen(script, "rb");
  if (fp == nullptr) {
    std::fprintf(stderr, "/usr/bin/python3: can't open file '%s': [Errno %d] %s\n", full.c_str(), errno,
                 std::strerror(errno));
    std::fflush(stderr);
    _exit(2);
  }
  PyObject* main_module = PyImport_AddModule("__main__");  // borrowed
  if (main_module == nullptr) die("no __main__");
  PyObject* globals = PyModule_GetDict(main_module);  // borrowed
  PyObject* file = fs_string(full.c_str());
  PyDict_SetItemString(globals, "__file__", file);
  PyDict_SetItemString(globals, "__cached__", Py_None);
  Py_DECREF(file);

  PyCompilerFlags flags = _PyCompilerFlags_INIT;
  PyObject* result = PyRun_FileExFlags(fp, full.c_str(), Py_file_input, globals, globals, 1, &flags);
  int status = 0;
  if (result == nullptr) {
    status = status_of_exception();
  } else {
    Py_DECREF(result);
  }
  // Shutdown as Py_FinalizeEx begins it (non-daemon threads, atexit callbacks, the std streams), then
  // leave without tearing down the heap: freeing every object of a forked interpreter touches (and so
  // copies) most of its pages, several times the cost of the whole run. Only when the program wrapped
  // fd 1 or 2 in a file object of its own do we finalise, because only finalisation flushes those.
  if (g_std_reopened) {
    if (Py_FinalizeEx() < 0 && status == 0) status = 120;
  } else {
    call_if_loaded("threading", "_shutdown");
    call_if_loaded("atexit", "_run_exitfuncs");
    if (!flush_std("stdout") && status == 0) status = 120;
    flush_std("stderr");
  }
  std::fflush(nullptr);
  _exit(status);
}

#else  // !R1_SANDBOX_PYTHON

bool python_zygote_built() { return false; }
bool python_zygote_ready() { return g_ready; }
bool python_zygote_init(std::string* error) {
  *error = "this helper was built without an embedded Python";
  return false;
}
[[noreturn]] void python_zygote_run(char* const*, char* const*) {
  std::fprintf(stderr, "r1 sandbox: python zygote not built\n");
  _exit(127);
}

#endif

}  // namespace r1::sandbox::helper
