// See wire.h. Writer appends; Reader checks every length against what is left before touching bytes.
#include "sandbox/wire.h"

#include <cstdint>
#include <cstring>

#include "common/error.h"

namespace r1::sandbox {

namespace {

constexpr uint32_t kJobMagic = 0x4a425352;     // "RSBJ"
constexpr uint32_t kResultMagic = 0x52425352;  // "RSBR"

class Writer {
 public:
  void u32(uint32_t v) { raw(&v, sizeof v); }
  void i64(int64_t v) { raw(&v, sizeof v); }
  void f64(double v) { raw(&v, sizeof v); }
  void str(std::string_view s) {
    u32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  void strs(const std::vector<std::string>& v) {
    u32(static_cast<uint32_t>(v.size()));
    for (const auto& s : v) str(s);
  }
  void limits(const Limits& l) {
    f64(l.wall_time_s);
    f64(l.cpu_time_s);
    i64(l.memory_bytes);
    i64(l.total_memory_bytes);
    i64(l.max_processes);
    i64(l.max_file_bytes);
    i64(l.max_open_files);
    i64(l.stack_bytes);
    i64(l.stdout_bytes);
    i64(l.stderr_bytes);
  }
  void execution(const Execution& e) {
    u32(static_cast<uint32_t>(e.status));
    i64(e.exit_code);
    i64(e.signal);
    str(e.stdout_data);
    str(e.stderr_data);
    u32((e.stdout_truncated ? 1u : 0u) | (e.stderr_truncated ? 2u : 0u));
    f64(e.wall_time_s);
    f64(e.cpu_time_s);
    i64(e.peak_memory_bytes);
    str(e.message);
  }
  std::string take() { return std::move(out_); }

 private:
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  uint32_t u32() { return scalar<uint32_t>(); }
  int64_t i64() { return scalar<int64_t>(); }
  double f64() { return scalar<double>(); }
  std::string str() {
    const uint32_t n = u32();
    need(n);
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  std::vector<std::string> strs() {
    const uint32_t n = u32();
    need(static_cast<size_t>(n) * 4);  // every string has at least its length word
    std::vector<std::string> v;
    v.reserve(n);
    for (uint32_t i = 0; i < n; ++i) v.push_back(str());
    return v;
  }
  Limits limits() {
    Limits l;
    l.wall_time_s = f64();
    l.cpu_time_s = f64();
    l.memory_bytes = i64();
    l.total_memory_bytes = i64();
    l.max_processes = i64();
    l.max_file_bytes = i64();
    l.max_open_files = i64();
    l.stack_bytes = i64();
    l.stdout_bytes = i64();
    l.stderr_bytes = i64();
    return l;
  }
  Status status() {
    const uint32_t s = u32();
    R1_CHECK(s <= static_cast<uint32_t>(Status::sandbox_error), "sandbox wire: bad status ", s);
    return static_cast<Status>(s);
  }
  Execution execution() {
    Execution e;
    e.status = status();
    e.exit_code = static_cast<int>(i64());
    e.signal = static_cast<int>(i64());
    e.stdout_data = str();
    e.stderr_data = str();
    const uint32_t flags = u32();
    e.stdout_truncated = flags & 1u;
    e.stderr_truncated = flags & 2u;
    e.wall_time_s = f64();
    e.cpu_time_s = f64();
    e.peak_memory_bytes = i64();
    e.message = str();
    return e;
  }
  void finish() const { R1_CHECK(pos_ == in_.size(), "sandbox wire: ", in_.size() - pos_, " trailing bytes"); }

 private:
  void need(size_t n) const {
    R1_CHECK(n <= in_.size() - pos_, "sandbox wire: message truncated at byte ", pos_, " (need ", n, ", have ",
             in_.size() - pos_, ")");
  }
  template <class T>
  T scalar() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

bool valid_job_path(const std::string& path) {
  if (path.empty() || path.size() >= 1024 || path.front() == '/' || path.find('\0') != std::string::npos) {
    return false;
  }
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string_view part(path.data() + start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

std::string encode_job(const Job& job) {
  Writer w;
  w.u32(kJobMagic);
  w.u32(static_cast<uint32_t>(job.files.size()));
  for (const File& f : job.files) {
    w.str(f.path);
    w.str(f.content);
    w.u32(f.executable ? 1 : 0);
  }
  w.strs(job.compile_argv);
  w.strs(job.run_argv);
  w.strs(job.env);
  w.strs(job.inputs);
  w.u32(job.stop_on_failure ? 1 : 0);
  w.str(job.fd3_data);
  w.limits(job.limits);
  w.limits(job.compile_limits);
  w.u32(static_cast<uint32_t>(job.isolation));
  w.u32(job.python_zygote ? 1 : 0);
  return w.take();
}

Job decode_job(std::string_view bytes) {
  Reader r(bytes);
  R1_CHECK(r.u32() == kJobMagic, "sandbox wire: not a job message");
  Job job;
  const uint32_t n_files = r.u32();
  R1_CHECK(n_files <= 100000, "sandbox wire: ", n_files, " files");
  for (uint32_t i = 0; i < n_files; ++i) {
    File f;
    f.path = r.str();
    f.content = r.str();
    f.executable = r.u32() != 0;
    job.files.push_back(std::move(f));
  }
  job.compile_argv = r.strs();
  job.run_argv = r.strs();
  job.env = r.strs();
  job.inputs = r.strs();
  job.stop_on_failure = r.u32() != 0;
  job.fd3_data = r.str();
  job.limits = r.limits();
  job.compile_limits = r.limits();
  const uint32_t iso = r.u32();
  R1_CHECK(iso <= static_cast<uint32_t>(Isolation::rlimits_only), "sandbox wire: bad isolation ", iso);
  job.isolation = static_cast<Isolation>(iso);
  job.python_zygote = r.u32() != 0;
  r.finish();
  return job;
}

std::string encode_result(const Result& result) {
  Writer w;
  w.u32(kResultMagic);
  w.u32(static_cast<uint32_t>(result.status));
  w.u32(result.compile ? 1 : 0);
  if (result.compile) w.execution(*result.compile);
  w.u32(static_cast<uint32_t>(result.runs.size()));
  for (const Execution& e : result.runs) w.execution(e);
  w.str(result.message);
  w.str(result.isolation);
  return w.take();
}

Result decode_result(std::string_view bytes) {
  Reader r(bytes);
  R1_CHECK(r.u32() == kResultMagic, "sandbox wire: not a result message");
  Result result;
  result.status = r.status();
  if (r.u32() != 0) result.compile = r.execution();
  const uint32_t n = r.u32();
  R1_CHECK(n <= 1000000, "sandbox wire: ", n, " runs");
  for (uint32_t i = 0; i < n; ++i) result.runs.push_back(r.execution());
  result.message = r.str();
  result.isolation = r.str();
  r.finish();
  return result;
}

}  // namespace r1::sandbox
