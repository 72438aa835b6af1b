// `r1 bench tokenizer`: encode and decode throughput of a tokenizer on real text — MB/s and tokens/s for
// the first pass (cold piece cache), a second pass (warm cache), all threads (warm), and decode. The text
// comes from --input: a .jsonl file (every string value of every row is a document, e.g. GSM8K or
// MATH-500 questions and solutions) or any other file (one document per non-empty line).
// Figures go to BENCHMARKS.md with the exact command; nothing here is a test.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "cli/commands.h"
#include "common/clock.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "common/jsonl.h"
#include "model/tokenizer/tokenizer.h"

namespace r1::cli {
namespace {

struct BenchArgs {
  std::string tokenizer, input;
  int threads = 0;
  int repeat = 3;
};

void collect_strings(const json::Value& v, std::vector<std::string>& out) {
  if (v.IsString()) {
    if (v.GetStringLength() > 0) out.emplace_back(v.GetString(), v.GetStringLength());
  } else if (v.IsObject()) {
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) collect_strings(it->value, out);
  } else if (v.IsArray()) {
    for (const auto& e : v.GetArray()) collect_strings(e, out);
  }
}

std::vector<std::string> read_documents(const std::string& path) {
  std::vector<std::string> docs;
  if (path.size() > 6 && path.compare(path.size() - 6, 6, ".jsonl") == 0) {
    for_each_jsonl(path, [&](size_t, const json::Value& row) { collect_strings(row, docs); });
  } else {
    const std::string text = read_file(path);
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      if (end == std::string::npos) end = text.size();
      if (end > start) docs.push_back(text.substr(start, end - start));
      start = end + 1;
    }
  }
  R1_CHECK(!docs.empty(), path, ": no text to tokenize");
  return docs;
}


void run_bench(const BenchArgs& a) {
  const auto t_load = std::chrono::steady_clock::now();
  const auto tok = model::Tokenizer::load(a.tokenizer);
  const double load_s = seconds_since(t_load);
  const std::vector<std::string> docs = read_documents(a.input);
  size_t bytes = 0;
  for (const auto& d : docs) bytes += d.size();
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("tokenizer %s (%s, vocab %lld), loaded in %.3f s\n", a.tokenizer.c_str(), tok->kind(),
              static_cast<long long>(tok->vocab_size()), load_s);
  std::printf("text %s: %zu documents, %.2f MB\n", a.input.c_str(), docs.size(), mb);

  // Encode, one thread: pass 1 has a cold piece cache, later passes a warm one (best of the rest).
  std::vector<std::vector<int64_t>> ids(docs.size());
  size_t tokens = 0;
  double cold = 0, warm = 1e30;
  for (int pass = 0; pass < std::max(2, a.repeat); ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    tokens = 0;
    for (size_t i = 0; i < docs.size(); ++i) {
      ids[i] = tok->encode(docs[i]);
      tokens += ids[i].size();
    }
    const double s = seconds_since(t0);
    if (pass == 0) cold = s;
    else warm = std::min(warm, s);
  }
  std::printf("tokens: %zu (%.2f bytes/token)\n", tokens, static_cast<double>(bytes) / static_cast<double>(tokens));
  std::printf("encode, 1 thread, cold cache : %8.2f MB/s %12.0f tokens/s\n", mb / cold, tokens / cold);
  std::printf("encode, 1 thread, warm cache : %8.2f MB/s %12.0f tokens/s\n", mb / warm, tokens / warm);

  const int threads = a.threads > 0 ? a.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  double multi = 1e30;
  for (int pass = 0; pass < std::max(1, a.repeat); ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (size_t i = static_cast<size_t>(t); i < docs.size(); i += static_cast<size_t>(threads)) tok->encode(docs[i]);
      });
    }
    for (auto& th : pool) th.join();
    multi = std::min(multi, seconds_since(t0));
  }
  std::printf("encode, %d threads, warm     : %8.2f MB/s %12.0f tokens/s\n", threads, mb / multi, tokens / multi);

  double dec = 1e30;
  size_t mismatches = 0;
  for (int pass = 0; pass < std::max(1, a.repeat); ++pass) {
    const auto t0 = std::chrono::steady_clock::now();
    mismatches = 0;
    for (size_t i = 0; i < docs.size(); ++i)
      if (tok->decode(ids[i]) != docs[i]) ++mismatches;
    dec = std::min(dec, seconds_since(t0));
  }
  std::printf("decode, 1 thread             : %8.2f MB/s %12.0f tokens/s\n", mb / dec, tokens / dec);
  std::printf("round trip: %zu of %zu documents decode to a different text%s\n", mismatches, docs.size(),
              std::string(tok->kind()) == "sentencepiece" ? " (sentencepiece normalises whitespace)" : "");
}

}  // namespace

void add_tokenizer_bench_commands(CLI::App& bench) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = bench.add_subcommand("tokenizer", "Tokenizer encode/decode throughput on a text file");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer.json, .model, or a model directory")->required();
  cmd->add_option("--input", args->input, ".jsonl (all string fields) or text file (one document per line)")->required();
  cmd->add_option("--threads", args->threads, "threads for the parallel pass (0 = all cores)");
  cmd->add_option("--repeat", args->repeat, "passes per measurement (best is reported)");
  cmd->callback([args] { run_bench(*args); });
}

}  // namespace r1::cli
