// See synthetic_r1.h.
#include "rl/stages/synthetic_r1.h"

#include "common/error.h"
#include "common/fs.h"
#include "common/seed.h"
#include "datasets/r1_world.h"

namespace r1::rl {
namespace {

using data::GeneralPrompt;
using data::Lang;
using data::Reply;
using data::WorldProblem;

double unit_of(uint64_t h) { return static_cast<double>(splitmix64(h) >> 11) / 9007199254740992.0; }

// The language a question is asked in: a pure function of the question, so the same problem is asked in the
// same language wherever it occurs.
Lang language_of(const std::string& question, double zh_rate) {
  return unit_of(data::stable_hash(question + "#lang")) < zh_rate ? Lang::Zh : Lang::En;
}

std::string chat_line(const std::string& user, const std::string& assistant, Lang lang, const std::string& answer) {
  json::Document doc(rapidjson::kObjectType);
  auto& a = doc.GetAllocator();
  json::Value messages(rapidjson::kArrayType);
  for (const auto& [role, content] : {std::pair<const char*, const std::string&>{"user", user}, {"assistant", assistant}}) {
    json::Value m(rapidjson::kObjectType);
    m.AddMember("role", json::Value(role, a), a);
    m.AddMember("content", json::Value(content.c_str(), a), a);
    messages.PushBack(m, a);
  }
  doc.AddMember("messages", messages, a);
  doc.AddMember("target_lang", json::Value(data::lang_code(lang), a), a);
  doc.AddMember("answer", json::Value(answer.c_str(), a), a);
  return json::dump(doc);
}

// Every general prompt about the first `topics` topics, split by a hash of its text into training and held-out.
void general_prompts(const SyntheticR1Config& c, std::vector<GeneralPrompt>& train, std::vector<GeneralPrompt>& heldout) {
  const size_t topics = static_cast<size_t>(c.topics);
  for (size_t t = 0; t < topics; ++t) {
    for (Lang lang : {Lang::En, Lang::Zh}) {
      for (int p = 0; p < data::kGeneralPhrasings; ++p) {
        const GeneralPrompt prompt{t, lang, p, topics};
        const bool held = data::stable_hash("general:" + prompt.text()) % static_cast<uint64_t>(c.general_heldout_modulus) == 0;
        (held ? heldout : train).push_back(prompt);
      }
    }
  }
  R1_CHECK(!train.empty() && !heldout.empty(), "synthetic_r1: general_heldout_modulus ", c.general_heldout_modulus, " with ",
           topics, " topics leaves ", train.size(), " training and ", heldout.size(), " held-out general prompts (both must be > 0)");
}

// One of the five flaws, uniformly.
Reply flaw_of(uint64_t h) { return static_cast<Reply>(1 + splitmix64(h ^ 0xF1A3ull) % (data::kReplyKinds - 1)); }

std::string reasoning_files(const SyntheticR1Config& c, uint64_t seed, const std::string& dir) {
  const data::ArithmeticConfig config = c.arithmetic.problem_config();
  const auto& a = c.arithmetic;
  auto corpus_problems = data::arithmetic_problems(config, seed, static_cast<size_t>(a.corpus_size), false, false);
  std::string corpus;
  for (size_t i = 0; i < corpus_problems.size(); ++i) {
    WorldProblem wp{corpus_problems[i], language_of(corpus_problems[i].question, c.zh_rate)};
    data::ArithmeticProblem doc = wp.problem;
    doc.question = wp.question();
    doc.steps = wp.lang == Lang::Zh ? wp.steps(c.zh_step_rate, data::stable_hash(doc.question) + i) : wp.steps();
    corpus += json_line({{"text", a.corpus_document(doc, static_cast<int64_t>(i))}}) + "\n";
  }
  for (int64_t i = 0; i < c.fact_documents; ++i) {  // 1..3 facts of random topics (of the first `topics`) in random languages
    const uint64_t h = splitmix64(seed ^ (0xFAC7ull + static_cast<uint64_t>(i) * 0x9E37ull));
    std::string text;
    for (uint64_t k = 0, n = 1 + h % 3; k < n; ++k) {
      const uint64_t hk = splitmix64(h + k);
      const Lang lang = (hk >> 7) % 2 ? Lang::Zh : Lang::En;
      if (!text.empty() && lang == Lang::En) text += " ";
      text += data::topic_fact(hk % static_cast<uint64_t>(c.topics), lang);
    }
    corpus += json_line({{"text", text}}) + "\n";
  }
  write_file_atomic(path_join(dir, "corpus.jsonl"), corpus);

  auto write_prompts = [&](const std::vector<data::ArithmeticProblem>& problems, const std::string& file) {
    std::string out;
    for (const auto& p : problems) {
      WorldProblem wp{p, language_of(p.question, c.zh_rate)};
      out += json_line({{"prompt", wp.question()}, {"answer", p.answer}, {"target_lang", data::lang_code(wp.lang)}}) + "\n";
    }
    write_file_atomic(path_join(dir, file), out);
  };
  write_prompts(data::arithmetic_problems(config, seed ^ 0x5EEDull, static_cast<size_t>(a.train_size), false), "train.jsonl");
  write_prompts(data::arithmetic_problems(config, seed, static_cast<size_t>(a.heldout_size), true), "heldout.jsonl");

  std::string cold;
  for (const auto& p : data::arithmetic_problems(config, seed ^ 0xC01Dull, static_cast<size_t>(c.cold_start_size), false)) {
    WorldProblem wp{p, language_of(p.question, c.zh_rate)};
    cold += chat_line(wp.question(), wp.readable_answer(), wp.lang, p.answer) + "\n";
  }
  write_file_atomic(path_join(dir, "cold_start.jsonl"), cold);
  return str_cat(corpus_problems.size(), " arithmetic + ", c.fact_documents, " fact documents, ", a.train_size,
                 " RL prompts, ", a.heldout_size, " held-out, ", c.cold_start_size, " cold-start rows");
}

std::string general_files(const SyntheticR1Config& c, uint64_t seed, const std::string& dir) {
  std::vector<GeneralPrompt> train, heldout;
  general_prompts(c, train, heldout);
  std::string rows;
  for (int64_t i = 0; i < c.general_train_size; ++i) {
    const uint64_t h = splitmix64(seed ^ (0x6E4Eull + static_cast<uint64_t>(i) * 0x9E37ull));
    const GeneralPrompt& p = train[h % train.size()];
    const Reply kind = unit_of(h ^ 0x600Dull) < c.general_good_rate ? Reply::Good : flaw_of(h);
    rows += json_line({{"prompt", p.text()}, {"response", p.reply(kind, h)}, {"target_lang", data::lang_code(p.lang)},
                       {"quality", data::reply_name(kind)}}) + "\n";
  }
  write_file_atomic(path_join(dir, "general_train.jsonl"), rows);
  std::string held;
  for (const auto& p : heldout) held += json_line({{"prompt", p.text()}, {"target_lang", data::lang_code(p.lang)}}) + "\n";
  write_file_atomic(path_join(dir, "general_heldout.jsonl"), held);

  auto write_pairs = [&](const std::vector<GeneralPrompt>& prompts, int64_t count, uint64_t salt, const std::string& file) {
    std::string out;
    for (int64_t i = 0; i < count; ++i) {
      const uint64_t h = splitmix64(seed ^ (salt + static_cast<uint64_t>(i) * 0x9E37ull));
      const GeneralPrompt& p = prompts[h % prompts.size()];
      const Reply flaw = flaw_of(h);
      out += json_line({{"prompt", p.text()}, {"chosen", p.reply(Reply::Good, h)}, {"rejected", p.reply(flaw, h)},
                        {"target_lang", data::lang_code(p.lang)}, {"flaw", data::reply_name(flaw)}}) + "\n";
    }
    write_file_atomic(path_join(dir, file), out);
  };
  write_pairs(train, c.preference_size, 0x9AE5ull, "preferences.jsonl");
  write_pairs(heldout, c.preference_heldout_size, 0x4E1Dull, "preferences_heldout.jsonl");
  return str_cat(c.general_train_size, " general rows (", train.size(), " prompts), ", heldout.size(),
                 " held-out general prompts, ", c.preference_size, " + ", c.preference_heldout_size, " preference pairs");
}

std::string run_synthetic_r1(const SyntheticR1Config& c, StageContext& ctx) {
  const uint64_t seed = c.arithmetic.seed >= 0 ? static_cast<uint64_t>(c.arithmetic.seed) : ctx.seed;
  const std::string reasoning = reasoning_files(c, seed, ctx.dir);
  const std::string general = general_files(c, seed, ctx.dir);
  std::fprintf(stderr, "%s: wrote %s; %s to %s\n", ctx.spec.name.c_str(), reasoning.c_str(), general.c_str(),
               ctx.dir.c_str());
  return ctx.dir;
}

}  // namespace

void SyntheticR1Config::validate(const std::string& where) const {
  arithmetic.validate(where);
  for (const auto& [name, x] : {std::pair<const char*, double>{"zh_rate", zh_rate}, {"zh_step_rate", zh_step_rate},
                                {"general_good_rate", general_good_rate}}) {
    R1_CHECK(x >= 0.0 && x <= 1.0, where, ": ", name, " must be in [0, 1], got ", x);
  }
  R1_CHECK(fact_documents >= 0 && cold_start_size >= 0 && general_train_size >= 0 && preference_size >= 0 &&
               preference_heldout_size >= 0,
           where, ": sizes must be >= 0");
  R1_CHECK(topics >= 2 && topics <= static_cast<int64_t>(data::world_topics().size()), where, ": topics must be in [2, ",
           data::world_topics().size(), "], got ", topics);
  R1_CHECK(general_heldout_modulus >= 2, where, ": general_heldout_modulus must be >= 2");
}

std::unique_ptr<Stage> make_synthetic_r1_stage(const StageSpec& spec) {
  return std::make_unique<ConfiguredStage<SyntheticR1Config>>(spec, run_synthetic_r1);
}

}  // namespace r1::rl
