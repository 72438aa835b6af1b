// Tests for datasets/: arithmetic generator (worked steps are right, split is disjoint), prompt templates,
// dataset readers on the shared data formats and on malformed lines, the deterministic data order.
#include <gtest/gtest.h>

#include "scratch_dir.h"

#include <filesystem>
#include <fstream>
#include <set>

#include "common/error.h"
#include "datasets/arithmetic.h"
#include "datasets/prompt_dataset.h"
#include "datasets/prompt_template.h"
#include "datasets/sampler.h"
#include "datasets/sft_dataset.h"

namespace r1::data {
namespace {

using r1::testing::scratch_file;

PromptDatasetSpec spec(const std::string& path, const std::string& format = "jsonl", int64_t limit = -1,
                       const std::string& question_key = "") {
  PromptDatasetSpec s;
  s.path = path;
  s.format = format;
  s.limit = limit;
  s.question_key = question_key;
  return s;
}

int64_t eval_question(const std::string& q) {
  int64_t a = 0, b = 0;
  char op = 0;
  std::sscanf(q.c_str(), "%ld %c %ld", &a, &op, &b);
  return op == '+' ? a + b : op == '-' ? a - b : a * b;
}

TEST(Arithmetic, AnswersAreCorrectAndStepsEndInTheAnswer) {
  ArithmeticConfig config;
  for (uint64_t i = 0; i < 3000; ++i) {
    ArithmeticProblem p = arithmetic_problem(config, 42, i);
    ASSERT_EQ(std::to_string(eval_question(p.question)), p.answer) << p.question;
    const std::string tail = "so " + p.answer;
    ASSERT_EQ(p.steps.substr(p.steps.size() - tail.size()), tail) << p.question << " | " << p.steps;
  }
}

TEST(Arithmetic, WorkedStepsForKnownCases) {
  // Find specific shapes by scanning: check the step text format on fixed examples instead.
  ArithmeticConfig config;
  config.max_digits = 2;
  config.sub_weight = config.mul_weight = 0;
  ArithmeticProblem p = arithmetic_problem(config, 1, 0);
  EXPECT_NE(p.steps.find('='), std::string::npos);
  // The last partial is the answer: the steps end with it, not with a repeated "so 37".
  ArithmeticConfig plain;
  plain.max_digits = 2;
  plain.pad_operands = false;
  for (uint64_t i = 0; i < 200; ++i) {
    ArithmeticProblem q = arithmetic_problem(plain, 5, i);
    EXPECT_EQ(q.steps.find("so " + q.answer + ". so " + q.answer), std::string::npos) << q.steps;
    EXPECT_EQ(q.steps.substr(q.steps.size() - q.answer.size()), q.answer) << q.steps;
  }
  EXPECT_EQ(arithmetic_document({"47 + 85", "7+5=12, so 2 carry 1. 4+8+1=13, so 32 carry 1. so 132", "132", false}, 0),
            "Problem: 47 + 85\nSolution: 7+5=12, so 2 carry 1. 4+8+1=13, so 32 carry 1. so 132. The answer is 132.");
}

TEST(Arithmetic, DeterministicAndSplitIsDisjoint) {
  ArithmeticConfig config;
  auto train = arithmetic_problems(config, 7, 2000, false);
  auto test = arithmetic_problems(config, 7, 200, true);
  auto again = arithmetic_problems(config, 7, 200, true);
  std::set<std::string> train_q;
  for (auto& p : train) train_q.insert(p.question);
  for (size_t i = 0; i < test.size(); ++i) {
    EXPECT_EQ(test[i].question, again[i].question);
    EXPECT_EQ(train_q.count(test[i].question), 0u) << test[i].question;
  }
  // A different seed draws a different stream.
  EXPECT_NE(arithmetic_problems(config, 8, 5, false)[0].question + arithmetic_problems(config, 8, 5, false)[1].question,
            train[0].question + train[1].question);
}

TEST(Arithmetic, BadConfigIsAnError) {
  ArithmeticConfig config;
  config.max_digits = 0;
  EXPECT_THROW(arithmetic_problem(config, 1, 0), Error);
  config.max_digits = 1;
  config.add_weight = 1;
  config.sub_weight = config.mul_weight = 0;
  // 1-digit additions have only 100 distinct questions: asking for more held-out ones than exist must fail.
  EXPECT_THROW(arithmetic_problems(config, 1, 500, true), Error);
}

TEST(Arithmetic, InstructedTranscriptFollowsItsOwnTags) {
  ArithmeticProblem p{"47 + 85", "7+5=12, so 2 carry 1. 4+8+1=13, so 32 carry 1. so 132", "132", false};
  std::set<std::string> docs;
  for (uint64_t v = 0; v < 400; ++v) {
    std::string doc = arithmetic_document(p, 4, v);
    docs.insert(doc.substr(0, 20));
    size_t user = doc.find(" User: 47 + 85. Assistant: <");
    ASSERT_NE(user, std::string::npos) << doc;
    std::string a = doc.substr(user + 28, doc.find('>', user + 28) - user - 28);
    EXPECT_NE(doc.find("<" + a + "> " + p.steps + " </" + a + "> <"), std::string::npos) << doc;
    EXPECT_NE(doc.rfind("132 </"), std::string::npos) << doc;
    EXPECT_LT(doc.find("<" + a + ">"), user) << "the instruction names the tag: " << doc;
  }
  EXPECT_GE(docs.size(), 3u) << "several instruction wordings";
}

TEST(Arithmetic, TranscriptPreamblesGrowWithTheirOptionsAndKeepTheQuestionIntact) {
  ArithmeticProblem p{"47 + 85", "7+5=12, so 2 carry 1. 4+8+1=13, so 32 carry 1. so 132", "132", false};
  size_t longest_default = 0, longest_framed = 0, longest_noisy = 0;
  for (uint64_t v = 0; v < 300; ++v) {
    const std::string plain = arithmetic_document(p, 4, v);
    // The defaults are the documents of earlier corpora (documented runs depend on them).
    EXPECT_EQ(plain, arithmetic_document(p, 4, v, TranscriptOptions{4, 0, 1.0}));
    const std::string framed = arithmetic_document(p, 4, v, TranscriptOptions{10, 0, 1.0});
    const std::string noisy = arithmetic_document(p, 4, v, TranscriptOptions{4, 60, 1.0});
    for (const std::string* doc : {&framed, &noisy}) {
      EXPECT_NE(doc->find(" User: 47 + 85. Assistant: <"), std::string::npos) << *doc;
      EXPECT_FALSE(doc->find("</think>") != std::string::npos && doc->find("<answer>") != std::string::npos) << *doc;
      EXPECT_EQ(doc->find("The reasoning process and answer are enclosed"), std::string::npos) << *doc;
    }
    // Noise goes in front: the rest of the document is the noiseless one.
    EXPECT_EQ(noisy.substr(noisy.size() - plain.size()), plain);
    longest_default = std::max(longest_default, plain.size());
    longest_framed = std::max(longest_framed, framed.size());
    longest_noisy = std::max(longest_noisy, noisy.size());
  }
  EXPECT_GT(longest_framed, longest_default + 200);  // up to 6 more framing sentences
  EXPECT_GT(longest_noisy, longest_default + 200);   // up to 60 noise words
}

TEST(Arithmetic, ALargerTagPoolGivesManyTagPairsButNeverTheR1ZeroPair) {
  ArithmeticProblem p{"47 + 85", "7+5=12, so 2 carry 1. 4+8+1=13, so 32 carry 1. so 132", "132", false};
  std::set<std::pair<std::string, std::string>> pairs_small, pairs_large;
  for (uint64_t v = 0; v < 3000; ++v) {
    for (int names : {0, 20}) {
      const std::string doc = arithmetic_document(p, 4, v, TranscriptOptions{4, 0, 1.0, names});
      const size_t open_a = doc.find("Assistant: <") + 12;
      const std::string a = doc.substr(open_a, doc.find('>', open_a) - open_a);
      const size_t open_b = doc.find("</" + a + "> <") + a.size() + 5;
      const std::string b = doc.substr(open_b, doc.find('>', open_b) - open_b);
      EXPECT_FALSE(a == "think" && b == "answer") << doc;
      EXPECT_NE(doc.find("<" + b + "> 132 </" + b + ">"), std::string::npos) << doc;
      (names == 0 ? pairs_small : pairs_large).insert({a, b});
    }
  }
  EXPECT_EQ(pairs_small.size(), 6u * 5u - 1u);  // the original pools
  EXPECT_GT(pairs_large.size(), 300u);          // of 20 x 20 - 1
}

TEST(Arithmetic, FollowRateSetsTheShareOfTranscriptsInTheirDescribedFormat) {
  ArithmeticProblem p{"47 + 85", "7+5=12, so 2 carry 1. 4+8+1=13, so 32 carry 1. so 132", "132", false};
  const std::string prose_end = " The result is 132.";
  int following = 0;
  constexpr int kDocs = 2000;
  for (uint64_t v = 0; v < kDocs; ++v) {
    const std::string full = arithmetic_document(p, 4, v, TranscriptOptions{4, 60, 1.0});
    const std::string half = arithmetic_document(p, 4, v, TranscriptOptions{4, 60, 0.4});
    EXPECT_NE(full.substr(full.size() - 6), "132.") << full;  // follow_rate 1: always the described tags
    const size_t steps_end = full.find(" </", full.find(p.steps));
    // Both share everything up to the reasoning block's closing tag.
    const size_t close = full.find('>', steps_end) + 1;
    ASSERT_EQ(half.substr(0, close), full.substr(0, close)) << half;
    if (half.size() >= prose_end.size() && half.compare(half.size() - prose_end.size(), prose_end.size(), prose_end) == 0) {
      EXPECT_EQ(half.substr(close), prose_end) << half;
    } else {
      EXPECT_EQ(half, full);
      ++following;
    }
  }
  EXPECT_NEAR(following / static_cast<double>(kDocs), 0.4, 0.05);
}

TEST(Arithmetic, BaseCorpusNeverContainsTheR1ZeroPair) {
  ArithmeticConfig config;
  for (uint64_t i = 0; i < 200; ++i) {
    for (int s = 0; s < kBaseCorpusStyles; ++s) {
      std::string doc = arithmetic_document(arithmetic_problem(config, 3, i), s, i * 7919);
      EXPECT_FALSE(doc.find("</think>") != std::string::npos && doc.find("<answer>") != std::string::npos) << doc;
      EXPECT_EQ(doc.find("The reasoning process and answer are enclosed"), std::string::npos) << doc;
    }
  }
}

TEST(PromptTemplate, BuiltinsAndCustom) {
  std::string t = resolve_prompt_template("r1_zero", "r");
  EXPECT_NE(t.find("<think> reasoning process here </think> <answer> answer here </answer>"), std::string::npos);
  EXPECT_EQ(apply_prompt_template(t, "1+1").substr(t.size() - 30), std::string(t).replace(t.find("{prompt}"), 8, "1+1").substr(t.size() - 30));
  EXPECT_EQ(apply_prompt_template(resolve_prompt_template("short_think", "r"), "2 + 3"), "User: 2 + 3\nAssistant: <think>");
  EXPECT_EQ(apply_prompt_template("Q: {prompt} / {prompt}", "x"), "Q: x / x");
  EXPECT_THROW(resolve_prompt_template("nope", "recipe.json: prompt_template"), Error);
}

TEST(PromptDataset, Gsm8kMathCountdownMgsmFromSharedData) {
  const std::string shared = R1_SHARED_DIR "/data";
  if (!std::filesystem::exists(shared)) GTEST_SKIP() << "no ../shared/data";
  auto gsm = load_prompt_dataset(spec(shared + "/gsm8k/test.jsonl", "gsm8k", 3));
  ASSERT_EQ(gsm.size(), 3u);
  EXPECT_EQ(json::get_string(*gsm[0].row, "answer", "t"), "18");
  auto math = load_prompt_dataset(spec(shared + "/math500/test.jsonl", "math", 2));
  EXPECT_EQ(json::get_string(*math[0].row, "answer", "t"), "\\left( 3, \\frac{\\pi}{2} \\right)");
  auto cd = load_prompt_dataset(spec(shared + "/countdown/countdown_cd3_test.jsonl", "countdown", 1));
  EXPECT_EQ(json::opt_int_list(*cd[0].row, "numbers", "t"), (std::vector<int64_t>{30, 100, 93}));
  EXPECT_EQ(json::get_int(*cd[0].row, "target", "t"), 23);
  auto mgsm = load_prompt_dataset(spec(shared + "/mgsm/mgsm_zh.tsv", "mgsm", 2));
  EXPECT_EQ(json::get_string(*mgsm[0].row, "target_lang", "t"), "zh");
  EXPECT_EQ(json::get_string(*mgsm[0].row, "answer", "t"), "18");
  auto amc = load_prompt_dataset(spec(shared + "/qwen25math_eval/amc23_test.jsonl", "jsonl", 1, "problem"));
  EXPECT_EQ(json::get_string(*amc[0].row, "answer", "t"), "27");
}

TEST(PromptDataset, MalformedLinesNameFileAndLine) {
  std::string path = scratch_file("bad.jsonl", "{\"prompt\": \"a\", \"answer\": 1}\n{\"prompt\": 3}\nnot json\n");
  try {
    load_prompt_dataset(spec(path));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.jsonl:2"), std::string::npos) << e.what();
  }
  PromptDatasetSpec skipping = spec(path);
  skipping.skip_bad_lines = true;
  auto rows = load_prompt_dataset(skipping);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(json::get_string(*rows[0].row, "answer", "t"), "1");
  std::string gsm = scratch_file("gsm.jsonl", "{\"question\": \"q\", \"answer\": \"no marker\"}\n");
  EXPECT_THROW(load_prompt_dataset(spec(gsm, "gsm8k")), Error);
  EXPECT_THROW(load_prompt_dataset(spec(path, "parquet")), Error);
}

TEST(SftDataset, ChatAndPromptCompletionAndErrors) {
  std::string path = scratch_file("chat.jsonl",
                                  "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", "
                                  "\"content\": \"yo\"}]}\n{\"prompt\": \"p\", \"completion\": \"c\"}\n");
  auto convs = load_chat_jsonl(path);
  ASSERT_EQ(convs.size(), 2u);
  EXPECT_EQ(convs[1].messages[1].role, "assistant");
  EXPECT_EQ(convs[1].messages[1].content, "c");
  std::string bad = scratch_file("chat_bad.jsonl",
                                 "{\"messages\": [{\"role\": \"robot\", \"content\": \"x\"}]}\n{\"messages\": [{\"role\": "
                                 "\"user\", \"content\": \"only user\"}]}\n");
  EXPECT_THROW(load_chat_jsonl(bad), Error);
  size_t skipped = 0;
  EXPECT_TRUE(load_chat_jsonl(bad, true, &skipped).empty());
  EXPECT_EQ(skipped, 2u);
  auto texts = load_text_jsonl(scratch_file("t.jsonl", "{\"text\": \"abc\"}\n"));
  EXPECT_EQ(texts, std::vector<std::string>{"abc"});
}

TEST(ShuffledOrder, IsAPermutationPerEpochAndDeterministic) {
  ShuffledOrder a(10, 5), b(10, 5), c(10, 6);
  std::set<size_t> epoch0, epoch1;
  std::vector<size_t> seq_a, seq_c;
  for (uint64_t p = 0; p < 20; ++p) {
    size_t i = a.at(p);
    (p < 10 ? epoch0 : epoch1).insert(i);
    seq_a.push_back(i);
    seq_c.push_back(c.at(p));
  }
  EXPECT_EQ(epoch0.size(), 10u);
  EXPECT_EQ(epoch1.size(), 10u);
  EXPECT_NE(seq_a, seq_c);
  // Random access (as after a resume) agrees with sequential access.
  EXPECT_EQ(b.at(13), seq_a[13]);
  EXPECT_EQ(b.at(2), seq_a[2]);
  ShuffledOrder plain(4, 1, false);
  EXPECT_EQ(plain.at(6), 2u);
}

}  // namespace
}  // namespace r1::data
