// See result_json.h.
#include "sandbox/result_json.h"

#include "common/json.h"

namespace r1::sandbox {

namespace {

size_t utf8_sequence(const unsigned char* p, size_t n) {  // length of a valid sequence at p, 0 if invalid
  const unsigned char c = p[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return 1;
  if ((c & 0xe0) == 0xc0) {
    len = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((p[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3f);
  }
  const uint32_t min_cp[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_cp[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

void add_string(json::Document& doc, json::Value& obj, const char* key, const std::string& value) {
  json::Value v;
  v.SetString(value.data(), static_cast<rapidjson::SizeType>(value.size()), doc.GetAllocator());
  obj.AddMember(rapidjson::StringRef(key), v, doc.GetAllocator());
}

json::Value execution_json(json::Document& doc, const Execution& e) {
  auto& a = doc.GetAllocator();
  json::Value obj(rapidjson::kObjectType);
  add_string(doc, obj, "status", status_name(e.status));
  obj.AddMember("exit_code", e.exit_code, a);
  obj.AddMember("signal", e.signal, a);
  bool lossy_out = false, lossy_err = false;
  add_string(doc, obj, "stdout", to_valid_utf8(e.stdout_data, &lossy_out));
  add_string(doc, obj, "stderr", to_valid_utf8(e.stderr_data, &lossy_err));
  obj.AddMember("stdout_truncated", e.stdout_truncated, a);
  obj.AddMember("stderr_truncated", e.stderr_truncated, a);
  obj.AddMember("stdout_lossy", lossy_out, a);
  obj.AddMember("stderr_lossy", lossy_err, a);
  obj.AddMember("wall_time_s", e.wall_time_s, a);
  obj.AddMember("cpu_time_s", e.cpu_time_s, a);
  obj.AddMember("peak_memory_bytes", static_cast<int64_t>(e.peak_memory_bytes), a);
  add_string(doc, obj, "message", e.message);
  return obj;
}

}  // namespace

std::string to_valid_utf8(const std::string& bytes, bool* lossy) {
  std::string out;
  out.reserve(bytes.size());
  bool replaced = false;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  while (i < bytes.size()) {
    const size_t len = utf8_sequence(p + i, bytes.size() - i);
    if (len == 0) {
      out += "\xef\xbf\xbd";
      replaced = true;
      ++i;
    } else {
      out.append(bytes, i, len);
      i += len;
    }
  }
  if (lossy != nullptr) *lossy = replaced;
  return out;
}

std::string result_to_json(const Result& result, bool pretty) {
  json::Document doc;
  doc.SetObject();
  auto& a = doc.GetAllocator();
  add_string(doc, doc, "status", status_name(result.status));
  add_string(doc, doc, "message", result.message);
  add_string(doc, doc, "isolation", result.isolation);
  if (result.compile) {
    json::Value c = execution_json(doc, *result.compile);
    doc.AddMember("compile", c, a);
  }
  json::Value runs(rapidjson::kArrayType);
  for (const Execution& e : result.runs) runs.PushBack(execution_json(doc, e), a);
  doc.AddMember("runs", runs, a);
  return json::dump(doc, pretty);
}

}  // namespace r1::sandbox
