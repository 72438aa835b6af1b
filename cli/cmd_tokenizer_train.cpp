// `r1 tokenizer train`: trains a byte-level BPE tokenizer (model/tokenizer/tokenizer_train.h) on JSONL and/or plain
// text files and writes tokenizer.json + tokenizer_config.json into a directory that Tokenizer::load,
// `r1 tokenize` and HF `tokenizers` read.
//
//   r1 tokenizer train --input corpus.jsonl [--input more.jsonl] [--key text] [--text-file notes.txt]
//                      --vocab-size 1024 [--special '<|endoftext|>' ...] [--eos-token '<|endoftext|>']
//                      [--no-split-digits] [--min-frequency 2] --output DIR
//
// Each JSONL line contributes its --key string; each --text-file contributes its whole content as one text.
// Bad lines are errors naming file:line.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/error.h"
#include "common/fs.h"
#include "common/progress.h"
#include "model/tokenizer/tokenizer_train.h"

namespace r1::cli {
namespace {

struct TrainArgs {
  std::vector<std::string> inputs, text_files, specials;
  std::string key = "text", output, bos, eos, pad;
  int64_t vocab_size = 0, min_frequency = 2;
  bool no_split_digits = false, quiet = false;
};

void run_train(const TrainArgs& a) {
  const auto start = std::chrono::steady_clock::now();
  const size_t fixed = 256 + a.specials.size();
  R1_CHECK(a.vocab_size >= static_cast<int64_t>(fixed), "--vocab-size ", a.vocab_size, " is smaller than the 256 byte tokens + ",
           a.specials.size(), " special tokens (", fixed, ")");
  model::BpeTrainerOptions o;
  o.vocab_size = a.vocab_size;
  o.special_tokens = a.specials;
  o.split_digits = !a.no_split_digits;
  o.min_frequency = a.min_frequency;
  model::TokenizerConfig config;
  auto special_field = [&](const std::string& token, const char* flag, std::optional<std::string>& out) {
    if (token.empty()) return;
    bool listed = false;
    for (const auto& s : a.specials) listed |= s == token;
    R1_CHECK(listed, flag, " '", token, "' is not one of the --special tokens");
    out = token;
  };
  special_field(a.bos, "--bos-token", config.bos_token);
  special_field(a.eos, "--eos-token", config.eos_token);
  special_field(a.pad, "--pad-token", config.pad_token);

  model::BpeTrainer trainer(o);
  for (const std::string& path : a.inputs) model::add_jsonl_texts(trainer, path, a.key);
  for (const std::string& path : a.text_files) trainer.add_text(read_file(path));
  if (!a.quiet) {
    std::fprintf(stderr, "tokenizer train: %ld texts, %.1f MB read; learning merges\n", static_cast<long>(trainer.texts_added()),
                 static_cast<double>(trainer.bytes_added()) / 1e6);
  }
  const int64_t wanted = a.vocab_size - 256 - static_cast<int64_t>(a.specials.size());
  ProgressBar bar("bpe merges", static_cast<size_t>(std::max<int64_t>(wanted, 0)), a.quiet);
  const model::BpeTrainResult r = trainer.train([&](int64_t done, int64_t) { bar.update(static_cast<size_t>(done)); });
  bar.finish();
  model::save_trained_tokenizer(a.output, r.tokenizer_json, config);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "wrote %s/tokenizer.json: %ld tokens (256 bytes + %zu special + %zu merges) from %ld distinct "
               "words in %.1f s%s\n",
               a.output.c_str(), static_cast<long>(r.vocab_size), a.specials.size(), r.merges.size(),
               static_cast<long>(r.words), seconds,
               r.vocab_size < a.vocab_size ? " (stopped early: no pair reaches --min-frequency)" : "");
}

}  // namespace

void add_tokenizer_train_commands(CLI::App& app) {
  CLI::App* tokenizer = app.add_subcommand("tokenizer", "Tokenizer tools (train)");
  tokenizer->require_subcommand(1);
  auto a = std::make_shared<TrainArgs>();
  CLI::App* train = tokenizer->add_subcommand(
      "train", "Train a byte-level BPE tokenizer; writes tokenizer.json + tokenizer_config.json to --output");
  train->add_option("--input", a->inputs, "JSONL file (repeatable); each line's --key string is one text");
  train->add_option("--key", a->key, "JSONL field holding the text");
  train->add_option("--text-file", a->text_files, "plain text file (repeatable); the whole file is one text");
  train->add_option("--vocab-size", a->vocab_size, "total vocabulary: 256 bytes + specials + merges")->required();
  train->add_option("--special", a->specials, "special token (repeatable; ids 256, 257, ... in order)");
  train->add_option("--bos-token", a->bos, "BOS for tokenizer_config.json (one of --special)");
  train->add_option("--eos-token", a->eos, "EOS for tokenizer_config.json (one of --special)");
  train->add_option("--pad-token", a->pad, "PAD for tokenizer_config.json (one of --special)");
  train->add_flag("--no-split-digits", a->no_split_digits, "let runs of digits merge (default: one token per digit)");
  train->add_option("--min-frequency", a->min_frequency, "pairs occurring fewer times are never merged");
  train->add_option("--output", a->output, "directory to write (created)")->required();
  train->add_flag("--quiet", a->quiet, "no progress output");
  train->callback([a] {
    R1_CHECK(!a->inputs.empty() || !a->text_files.empty(), "tokenizer train: give at least one --input or --text-file");
    run_train(*a);
  });
}

}  // namespace r1::cli
