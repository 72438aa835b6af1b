// See code_harness.h. The Python text below is the whole trusted harness; @PASS_LINE@ is replaced by the
// number of the line that holds "go.release(); done.acquire()" (computed, so editing the text is safe).
#include "rewards/code/code_harness.h"

#include <random>

#include "common/error.h"

namespace r1::rewards {

namespace {

const char* const kHarnessTemplate = R"PY(# r1 code-reward harness (trusted). See rewards/code/code_harness.h.
import os
import sys
import _thread

SEGMENTS = @SEGMENTS@


def _r1_install_audit_hook(notary_ident):
    deny = frozenset(("sys.settrace", "sys.setprofile", "sys._current_exceptions", "gc.get_objects",
                      "gc.get_referrers", "gc.get_referents", "code.__new__"))

    def hook(event, args, _deny=deny, _ni=notary_ident, _gi=_thread.get_ident, _sw=str.startswith,
             _type=type, _str=str, _bytes=bytes, _err=RuntimeError):
        if event in _deny or _sw(event, "ctypes."):
            raise _err("blocked by the r1 test harness: " + event)
        if event == "sys._current_frames" and _gi() != _ni:
            raise _err("blocked by the r1 test harness: " + event)
        if event == "import" and args[0] in ("ctypes", "_ctypes"):
            raise _err("blocked by the r1 test harness: import " + args[0])
        if event == "open":
            path = args[0]
            if _type(path) is _bytes:
                path = path.decode("latin-1")
            if _type(path) is _str and _sw(path, "/proc"):
                raise _err("blocked by the r1 test harness: open " + path)

    sys.addaudithook(hook)


def _r1_main():
    _exec, _compile, _exit, _write, _read, _close = exec, compile, os._exit, os.write, os.read, os.close
    _frames, _get_ident = sys._current_frames, _thread.get_ident
    _flush_out, _flush_err = sys.stdout.flush, sys.stderr.flush
    go = _thread.allocate_lock()
    go.acquire()
    ready = _thread.allocate_lock()
    ready.acquire()
    done = _thread.allocate_lock()
    done.acquire()
    main_ident = _get_ident()
    main_frame = sys._getframe()
    out_fd = os.dup(1)
    codes = []
    for name in SEGMENTS:
        with open(name, "rb") as f:
            codes.append(_compile(f.read(), name, "exec", dont_inherit=True, optimize=0))
    codes = tuple(codes)

    def notary():
        mf, mi, g, d, fr, w, fd, line = main_frame, main_ident, go, done, _frames, _write, out_fd, @PASS_LINE@
        chunks = []
        while True:
            b = _read(3, 4096)
            if not b:
                break
            chunks.append(b)
        _close(3)
        secret = b"".join(chunks)
        del chunks
        ready.release()
        while True:
            g.acquire()
            f = fr().get(mi)
            if f is mf and f.f_lineno == line:
                w(fd, b"\nR1-HARNESS-PASS " + secret + b"\n")
                d.release()
                return

    notary_ident = _thread.start_new_thread(notary, ())
    ready.acquire()
    _r1_install_audit_hook(notary_ident)
    namespace = {"__name__": "__r1_candidate__", "__builtins__": __builtins__}
    for code in codes:
        _exec(code, namespace)
    try:
        _flush_out()
        _flush_err()
    except:
        pass
    go.release(); done.acquire()
    _exit(0)


_r1_main()
)PY";

std::string python_tuple(const std::vector<Segment>& segments) {
  std::string out = "(";
  for (const auto& [name, source] : segments) out += "\"" + name + "\", ";
  return out + ")";
}

std::string fill(std::string text, const std::string& key, const std::string& value) {
  const size_t at = text.find(key);
  R1_CHECK(at != std::string::npos, "code harness template lacks ", key);
  return text.replace(at, key.size(), value);
}

}  // namespace

const std::string& python_harness() {
  static const std::string harness = [] {
    std::string text = kHarnessTemplate;
    const size_t pass = text.find("go.release(); done.acquire()");
    R1_CHECK(pass != std::string::npos, "code harness template lacks its pass line");
    size_t line = 1;
    for (size_t i = 0; i < pass; ++i) line += text[i] == '\n';
    return fill(text, "@PASS_LINE@", std::to_string(line));
  }();
  return harness;
}

std::string make_secret() {
  static thread_local std::random_device device;
  static const char* const hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 4; ++i) {
    uint32_t v = device();
    for (int k = 0; k < 8; ++k, v >>= 4) out += hex[v & 15];
  }
  return out;
}

sandbox::Request harness_request(const std::vector<Segment>& segments, const std::string& secret,
                                 const sandbox::Limits& limits) {
  sandbox::Request request;
  request.language = "python";
  request.source = fill(python_harness(), "@SEGMENTS@", python_tuple(segments));
  for (const auto& [name, source] : segments) request.files.push_back({name, source, false});
  request.fd3_data = secret;
  request.limits = limits;
  return request;
}

bool harness_passed(const sandbox::Result& result, const std::string& secret) {
  if (result.status != sandbox::Status::ok || result.runs.empty() || secret.empty()) return false;
  const std::string marker = "\nR1-HARNESS-PASS " + secret + "\n";
  return result.runs.front().stdout_data.find(marker) != std::string::npos;
}

}  // namespace r1::rewards
