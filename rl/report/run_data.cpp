// See run_data.h. Lines are read by hand rather than with for_each_jsonl: a bad line must be skipped with
// its own reason (torn by a kill, not JSON, not an object, no stage, a non-number value) and the reading
// must go on.
#include "rl/report/run_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>

#include "common/error.h"
#include "common/fs.h"
#include "rl/report/html.h"

namespace r1::rl::report {
namespace {

constexpr size_t kNotesPerFile = 20;

// Collects the notes of one file, keeping the first kNotesPerFile and counting the rest.
class FileNotes {
 public:
  FileNotes(std::string label, std::vector<std::string>& notes) : label_(std::move(label)), notes_(notes) {}
  ~FileNotes() {
    if (count_ > kNotesPerFile) {
      notes_.push_back(label_ + ": " + std::to_string(count_ - kNotesPerFile) + " more problems not listed");
    }
  }
  void add(size_t line, const std::string& what) {
    if (++count_ <= kNotesPerFile) notes_.push_back(label_ + ":" + std::to_string(line) + ": " + what);
  }
  const std::string& label() const { return label_; }

 private:
  std::string label_;
  std::vector<std::string>& notes_;
  size_t count_ = 0;
};

std::string first_line_of(const std::string& text) {
  const size_t nl = text.find('\n');
  return nl == std::string::npos ? text : text.substr(0, nl);
}

// The reason of a json::parse error ("origin:line:col: invalid JSON: reason" → "reason").
std::string parse_reason(const std::string& error) {
  const std::string marker = "invalid JSON: ";
  const size_t p = error.find(marker);
  return first_line_of(p == std::string::npos ? error : error.substr(p + marker.size()));
}

// Calls fn(line, object) for each JSON object line of path; notes every other non-blank line.
void for_each_object_line(const std::string& path, FileNotes& notes,
                          const std::function<void(size_t, const json::Value&)>& fn) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const std::exception& e) {
    notes.add(0, std::string("cannot be read: ") + e.what());
    return;
  }
  size_t line = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    const bool torn = end == std::string::npos;  // the last line has no newline: a write cut by a kill
    if (torn) end = text.size();
    const std::string_view raw(text.data() + pos, end - pos);
    ++line;
    pos = end + 1;
    if (raw.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    json::Document doc;
    try {
      doc = json::parse(raw, notes.label());
    } catch (const std::exception& e) {
      notes.add(line, torn ? "torn last line (the run was stopped while writing it), skipped"
                           : "not JSON, skipped (" + parse_reason(e.what()) + ")");
      continue;
    }
    if (!doc.IsObject()) {
      notes.add(line, std::string("a JSON ") + json::type_name(doc) + ", not an object, skipped");
      continue;
    }
    fn(line, doc);
  }
}

void read_metrics_line(size_t line, const json::Value& obj, RunData& run, FileNotes& notes) {
  const json::Value* stage = json::find(obj, "stage");
  const json::Value* step = json::find(obj, "step");
  if (!stage || !stage->IsString() || !step || !step->IsNumber() || !std::isfinite(step->GetDouble())) {
    notes.add(line, "no \"stage\" (a string) and \"step\" (a number), skipped");
    return;
  }
  StageMetrics& m = run.metrics[stage->GetString()];
  ++m.lines;
  const double x = step->GetDouble();
  for (auto it = obj.MemberBegin(); it != obj.MemberEnd(); ++it) {
    const std::string key = it->name.GetString();
    if (key == "stage" || key == "step" || key == "time") continue;
    const json::Value& v = it->value;
    if (v.IsNumber() && std::isfinite(v.GetDouble())) {
      if (!m.series.count(key)) m.keys.push_back(key);
      m.series[key].points.emplace_back(x, v.GetDouble());
    } else if (v.IsNull() || v.IsNumber()) {
      notes.add(line, "'" + key + "' is not finite (null or NaN/Inf) at step " + format_number(x) + ", not drawn");
    } else {
      notes.add(line, "'" + key + "' is a " + json::type_name(v) + ", not a number, not drawn");
    }
  }
}

std::string string_field(const json::Value& obj, const char* key) {
  const json::Value* v = json::find(obj, key);
  if (!v) return "";
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  return json::dump(*v);
}

void read_sample_line(size_t line, const json::Value& obj, RunData& run, FileNotes& notes) {
  const json::Value* stage = json::find(obj, "stage");
  if (!stage || !stage->IsString()) {
    notes.add(line, "no \"stage\" string, skipped");
    return;
  }
  Sample s;
  s.line = line;
  if (const json::Value* step = json::find(obj, "step"); step && step->IsNumber() && std::fabs(step->GetDouble()) < 9e18) {
    s.step = static_cast<int64_t>(step->GetDouble());
  }
  if (const json::Value* r = json::find(obj, "reward"); r && r->IsNumber() && std::isfinite(r->GetDouble())) {
    s.reward = r->GetDouble();
  }
  s.prompt = string_field(obj, "prompt");
  s.completion = string_field(obj, "completion");
  s.answer = string_field(obj, "answer");
  s.reason = string_field(obj, "reason");
  s.finish = string_field(obj, "finish");
  s.source = string_field(obj, "source");
  if (const json::Value* c = json::find(obj, "components"); c && c->IsObject()) {
    for (auto it = c->MemberBegin(); it != c->MemberEnd(); ++it) {
      const double v = it->value.IsNumber() ? it->value.GetDouble() : std::nan("");
      s.components.emplace_back(it->name.GetString(), v);
    }
  }
  run.samples[stage->GetString()].push_back(std::move(s));
}

// The recipe's name and stages (name, type).
void read_recipe(RunData& run) {
  const std::string recipe_path = path_join(run.root, "recipe.resolved.json");
  if (path_exists(recipe_path)) {
    try {
      run.recipe_text = read_file(recipe_path);
    } catch (const std::exception& e) {
      run.notes.push_back(std::string("recipe.resolved.json: cannot be read: ") + e.what());
    }
  } else {
    run.notes.push_back("recipe.resolved.json: missing (not a run directory of r1 run?)");
  }
  json::Document recipe;
  if (!run.recipe_text.empty()) {
    try {
      recipe = json::parse(run.recipe_text, "recipe.resolved.json", true);
    } catch (const std::exception& e) {
      run.notes.push_back(std::string("recipe.resolved.json: ") + first_line_of(e.what()));
    }
  }
  if (recipe.IsObject()) {
    if (const json::Value* n = json::find(recipe, "name"); n && n->IsString()) run.name = n->GetString();
    const json::Value* stages = json::find(recipe, "stages");
    if (stages && stages->IsArray()) {
      for (const auto& s : stages->GetArray()) {
        if (!s.IsObject()) continue;
        run.stages.push_back({string_field(s, "name"), string_field(s, "type"), false, ""});
      }
    }
  }
}

// state.json's completed stages, marked on the stages known.
void read_state(RunData& run) {
  json::Document state;
  if (!read_json_file(path_join(run.root, "state.json"), "state.json", state, run.notes) || !state.IsObject()) return;
  const json::Value* done = json::find(state, "completed");
  if (!done || !done->IsObject()) return;
  for (StageInfo& s : run.stages) {
    if (const json::Value* out = json::find(*done, s.name.c_str()); out) {
      s.completed = true;
      s.output = out->IsString() ? out->GetString() : "";
    }
  }
}

}  // namespace

bool read_json_file(const std::string& path, const std::string& label, json::Document& out,
                    std::vector<std::string>& notes) {
  if (!path_exists(path)) return false;
  try {
    out = json::parse(read_file(path), label);
    return true;
  } catch (const std::exception& e) {
    notes.push_back(first_line_of(e.what()));
    return false;
  }
}

RunData read_run(const std::string& root) {
  R1_CHECK(is_directory(root), root, ": not a directory (r1 report reads a run directory of r1 run)");
  RunData run;
  run.root = root;
  read_recipe(run);
  if (run.name.empty()) {
    std::string trimmed = root;
    while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
    run.name = trimmed.substr(trimmed.find_last_of('/') + 1);
  }
  const std::string metrics_path = path_join(root, "metrics.jsonl");
  if (path_exists(metrics_path)) {
    FileNotes notes("metrics.jsonl", run.notes);
    for_each_object_line(metrics_path, notes,
                         [&](size_t line, const json::Value& obj) { read_metrics_line(line, obj, run, notes); });
  } else {
    run.notes.push_back("metrics.jsonl: missing (no stage has logged a step yet)");
  }
  const std::string samples_path = path_join(root, "samples.jsonl");
  if (path_exists(samples_path)) {
    FileNotes notes("samples.jsonl", run.notes);
    for_each_object_line(samples_path, notes,
                         [&](size_t line, const json::Value& obj) { read_sample_line(line, obj, run, notes); });
  }
  // Stages seen only in the logs (a recipe edited since, or no recipe at all) come after the recipe's.
  // Stage directories the recipe does not name (a recipe edited since, or none readable), by name.
  std::error_code ec;
  std::vector<std::string> dirs;
  for (const auto& e : std::filesystem::directory_iterator(path_join(root, "stages"), ec)) {
    if (e.is_directory(ec)) dirs.push_back(e.path().filename().string());
  }
  std::sort(dirs.begin(), dirs.end());
  for (const std::string& d : dirs) {
    bool known = false;
    for (const StageInfo& s : run.stages) known = known || s.name == d;
    if (!known) run.stages.push_back({d, "", false, ""});
  }
  // "X/Y" lines of a known stage X (the evaluate stage logs one per model) belong to X's section.
  for (const auto& [name, m] : run.metrics) {
    const std::string owner = name.substr(0, name.find('/'));
    bool known = false;
    for (const StageInfo& s : run.stages) known = known || s.name == name || s.name == owner;
    if (!known) run.stages.push_back({name, "", false, ""});
  }
  read_state(run);
  return run;
}

}  // namespace r1::rl::report
