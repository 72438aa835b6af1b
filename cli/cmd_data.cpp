// `r1 data filter`: the R1 readability filters (datasets/filters/) over a JSONL file of completions.
//
//   r1 data filter --input IN.jsonl --output KEPT.jsonl --rejected DROPPED.jsonl [--options JSON|FILE]
//                  [--stats S.json] [--skip-bad]
//
// Each input line is a JSON object with "completion" (string) and optionally "prompt" (string: the
// language detection and the duplicate group), "target_lang" (ISO code) and "truncated" (bool). Every row
// lands in exactly one output: a kept row is copied byte for byte, a dropped row is copied byte for byte
// with `,"reasons":[...]` (the failed filters' names, in report order) inserted before its closing brace —
// or, when it already has a "reasons" field, re-serialised with that field replaced. Blank lines are not
// rows. A bad line (not JSON, not an object, no string completion, a field of the wrong type, an unknown
// target_lang) stops the run with an error naming file:line, and nothing is written; with --skip-bad it
// is reported on stderr, counted in the stats ("skipped_bad_lines") and written nowhere. Both outputs and
// the stats are written atomically (temp file + rename) when the whole input has been read.
#include <CLI/CLI.hpp>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/atomic_file.h"
#include "common/config_io.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "datasets/filters/readability_filter.h"

namespace r1::cli {
namespace {

using data::Filter;
using data::FilterInput;
using data::FilterOptions;
using data::ReadabilityFilter;

struct FilterArgs {
  std::string input, output, rejected, options, stats;
  bool skip_bad = false;
};

FilterOptions load_options(const std::string& text) {
  if (text.empty()) return FilterOptions{};
  const bool inline_json = text.find_first_not_of(" \t\r\n") != std::string::npos &&
                           text[text.find_first_not_of(" \t\r\n")] == '{';
  const std::string where = inline_json ? "--options" : text;
  json::Document doc = inline_json ? json::parse(text, "--options", /*allow_comments=*/true) : json::parse_file(text);
  return data::read_filter_options(doc, where);
}

// `,"reasons":[...]` inserted before the row's closing brace (the rest of the line kept byte for byte).
std::string with_reasons(const std::string& line, const json::Value& row, const std::vector<Filter>& failed) {
  std::string reasons = "[";
  for (size_t i = 0; i < failed.size(); ++i) reasons += std::string(i ? ",\"" : "\"") + data::filter_name(failed[i]) + "\"";
  reasons += "]";
  if (json::find(row, "reasons") == nullptr) {
    const size_t brace = line.find_last_of('}');
    const bool empty = row.MemberCount() == 0;
    return line.substr(0, brace) + (empty ? "" : ",") + "\"reasons\":" + reasons + line.substr(brace);
  }
  json::Document copy;
  copy.CopyFrom(row, copy.GetAllocator());
  json::Document parsed = json::parse(reasons, "reasons");
  copy["reasons"].CopyFrom(parsed, copy.GetAllocator());
  return json::dump(copy);
}

// Reads the optional string field `key` of a row into `out` (left as it is when the field is missing or null);
// false with `error` set when it is not a string.
bool read_optional_text(const json::Value& row, const char* key, std::string_view& out, std::string& error) {
  const json::Value* v = json::find(row, key);
  if (v == nullptr || v->IsNull()) return true;
  if (!v->IsString()) {
    error = std::string("field '") + key + "' is not a string";
    return false;
  }
  out = std::string_view(v->GetString(), v->GetStringLength());
  return true;
}

// The sample of a row, or an error message.
bool read_sample(const json::Value& row, FilterInput& in, std::string& error) {
  const json::Value* completion = json::find(row, "completion");
  if (completion == nullptr || !completion->IsString()) {
    error = completion == nullptr ? "no field 'completion'" : "field 'completion' is not a string";
    return false;
  }
  in.completion = std::string_view(completion->GetString(), completion->GetStringLength());
  if (!read_optional_text(row, "prompt", in.prompt, error)) return false;
  if (!read_optional_text(row, "target_lang", in.target_lang, error)) return false;
  if (const json::Value* t = json::find(row, "truncated"); t != nullptr && !t->IsNull()) {
    if (!t->IsBool()) {
      error = "field 'truncated' is not true/false";
      return false;
    }
    in.truncated = t->GetBool();
  }
  return true;
}

void run_filter(const FilterArgs& args) {
  R1_CHECK(args.output != args.rejected, "--output and --rejected must be different files (both are ", args.output, ")");
  R1_CHECK(args.stats.empty() || (args.stats != args.output && args.stats != args.rejected),
           "--stats must differ from --output and --rejected");
  ReadabilityFilter filter(load_options(args.options));
  std::ifstream in(args.input, std::ios::binary);
  R1_CHECK(in.good(), args.input, ": cannot open for reading");
  AtomicFileWriter kept(args.output), dropped(args.rejected);

  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = args.input + ":" + std::to_string(number);
    auto bad = [&](const std::string& error) {
      R1_CHECK(args.skip_bad, where, ": ", error, " (--skip-bad skips bad lines)");
      std::fprintf(stderr, "skipped %s: %s\n", where.c_str(), error.c_str());
      ++filter.stats().skipped_bad;
    };
    json::Document row;
    row.Parse<rapidjson::kParseFullPrecisionFlag>(line.data(), line.size());
    if (row.HasParseError()) {
      bad(std::string("invalid JSON at byte ") + std::to_string(row.GetErrorOffset() + 1) + ": " +
          rapidjson::GetParseError_En(row.GetParseError()));
      continue;
    }
    if (!row.IsObject()) {
      bad(std::string("expected a JSON object, got ") + json::type_name(row));
      continue;
    }
    FilterInput sample;
    std::string error;
    if (!read_sample(row, sample, error)) {
      bad(error);
      continue;
    }
    std::vector<Filter> failed;
    try {
      failed = filter.check(sample);
    } catch (const Error& e) {  // an unknown target_lang
      bad(e.what());
      continue;
    }
    filter.stats().add(failed);
    if (failed.empty()) {
      filter.remember(sample);
      kept.write(line);
      kept.write("\n");
    } else {
      dropped.write(with_reasons(line, row, failed));
      dropped.write("\n");
    }
  }
  R1_CHECK(!in.bad(), args.input, ": read error");

  const data::FilterStats& stats = filter.stats();
  if (!args.stats.empty()) {
    json::Document doc = stats.to_json();
    auto& a = doc.GetAllocator();
    json::set_member(doc, doc, "input", json::Value(args.input.c_str(), a));
    json::Document options = ConfigWriter::to_document(filter.options());
    json::Value copy;
    copy.CopyFrom(options, a);
    json::set_member(doc, doc, "options", std::move(copy));
    write_file_atomic(args.stats, json::dump(doc, /*pretty=*/true) + "\n");
  }
  kept.commit();
  dropped.commit();

  std::string by;
  for (Filter f : data::all_filters()) {
    const size_t n = stats.dropped_by[static_cast<size_t>(f)];
    if (n > 0) by += (by.empty() ? "" : ", ") + std::string(data::filter_name(f)) + " " + std::to_string(n);
  }
  std::fprintf(stderr, "filtered %zu rows: %zu kept, %zu dropped%s%s%s", stats.rows, stats.kept, stats.dropped,
               by.empty() ? "" : " (", by.c_str(), by.empty() ? "" : ")");
  if (args.skip_bad) std::fprintf(stderr, "; %zu bad lines skipped", stats.skipped_bad);
  std::fprintf(stderr, "\n");
}

std::string options_footer() {
  std::string out =
      "\nFilter options (--options '{\"long_paragraph\": {\"max_chars\": 3000}, \"duplicate\": {\"enabled\": false}}'"
      " or a JSON file; key (type, default): help; docs/data_filters.md gives the reasons):\n";
  for (const ConfigField& f : ConfigLister::list(FilterOptions{})) {
    if (f.type == "object") {
      out += "  " + f.key + ": " + f.help + "\n";
      continue;
    }
    out += "    " + f.key + " (" + f.type + ", " + f.default_json + "): " + f.help + "\n";
  }
  out +=
      "\nRows: {\"completion\": ..., \"prompt\"?, \"target_lang\"?, \"truncated\"?, any other fields}. Kept rows are "
      "copied byte for byte; dropped rows gain \"reasons\": [filter names].\n";
  return out;
}

}  // namespace

void add_data_commands(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Data tools: filter completions with the R1 readability filters");
  data->require_subcommand(1);

  auto args = std::make_shared<FilterArgs>();
  CLI::App* filter = data->add_subcommand(
      "filter", "Split a JSONL file of completions into kept rows and dropped rows (with their reasons) by the R1 "
                "readability filters: mixed_language, long_paragraph, code_block, truncated, no_answer, repetition, "
                "duplicate");
  filter->add_option("--input", args->input, "JSONL input: one object per line with \"completion\"")->required();
  filter->add_option("--output", args->output, "JSONL of the kept rows (written atomically)")->required();
  filter->add_option("--rejected", args->rejected, "JSONL of the dropped rows, each with \"reasons\" (written atomically)")
      ->required();
  filter->add_option("--options", args->options, "Filter options: a JSON object or a JSON file (defaults below)");
  filter->add_option("--stats", args->stats, "Write counts (rows, kept, dropped per filter, bad lines) and the options as JSON");
  filter->add_flag("--skip-bad", args->skip_bad,
                   "Report bad lines on stderr, count them in the stats and write them nowhere, instead of stopping");
  filter->footer(options_footer());
  filter->callback([args] { run_filter(*args); });
}

}  // namespace r1::cli
