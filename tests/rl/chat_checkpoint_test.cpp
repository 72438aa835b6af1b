// Chat-ready checkpoints end to end: a short SFT run of the tiny model with the ChatML template (through `r1 run`)
// must leave, in final/ and in every checkpoint, the HF metadata of a chat model (tokenizer_config.json with the
// chat_template r1 trained with, eos_token = <|im_end|>, pad_token, special_tokens_map.json) that r1 loads back
// as the same template, and a generation_config.json that also stops at <|im_end|>; `r1 generate --chat` on
// that model applies the template, stops at the end of the turn and prints the answer without template markers;
// bad messages are errors naming the option or file:line.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_run.h"
#include "common/error.h"
#include "common/json.h"
#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/tokenizer.h"
#include "run_util.h"

namespace r1::rl {
namespace {

using namespace r1::rl::testing;
using r1::testing::run_r1_cli;

constexpr int kSteps = 40;
constexpr int64_t kEndOfText = 256, kImEnd = 258;  // ids in kChatMlSpecials

// Every row answers "ok": a few dozen steps teach the tiny model to end its turn right after it.
const char* kRows =
    R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}
{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}, {"role": "assistant", "content": "ok"}]}
{"messages": [{"role": "user", "content": "hey"}, {"role": "assistant", "content": "ok"}, {"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}]}
{"prompt": "hi there", "completion": "ok"}
)";

class ChatSft : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (std::filesystem::temp_directory_path() / ("r1_ChatSft_" + std::to_string(::getpid()))).string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    write_text(dir_ + "/chat.jsonl", kRows);
    write_text(dir_ + "/sft.json", R"({"seed": 3, "stages": [{
      "name": "sft", "type": "sft", "model": )" + tiny_model_json(kChatMlSpecials) + R"(,
      "data": ")" + dir_ + R"(/chat.jsonl", "chat_template": "chatml", "steps": )" + std::to_string(kSteps) + R"(,
      "batch_size": 4, "max_len": 96, "save_every": 20, "save_every_minutes": 0,
      "optim": {"lr": 0.01, "schedule": "constant", "weight_decay": 0.0}, "threads": 1}]})");
    run_ = run_r1({"run", dir_ + "/sft.json", "--output", dir_ + "/run", "--quiet"}, dir_ + "/run.log");
  }
  static void TearDownTestSuite() {
    if (!::testing::UnitTest::GetInstance()->Failed()) std::filesystem::remove_all(dir_);
  }
  void SetUp() override { ASSERT_TRUE(run_.exited && run_.code == 0) << run_.output; }

  static std::string stage(const std::string& rel) { return dir_ + "/run/stages/sft/" + rel; }
  static std::string final_dir() { return stage("final"); }

  static std::string dir_;
  static RunResult run_;
};

std::string ChatSft::dir_;
RunResult ChatSft::run_;

void expect_chat_metadata(const std::string& model_dir) {
  SCOPED_TRACE(model_dir);
  const json::Document config = json::parse_file(model_dir + "/tokenizer_config.json");
  EXPECT_EQ(json::get_string(config, "chat_template", "c"), model::ChatTemplate::by_name("chatml").jinja());
  EXPECT_EQ(json::get_string(config, "eos_token", "c"), "<|im_end|>");
  EXPECT_EQ(json::get_string(config, "pad_token", "c"), "<|endoftext|>");
  EXPECT_EQ(json::get_string(config, "tokenizer_class", "c"), "PreTrainedTokenizerFast");
  const json::Document map = json::parse_file(model_dir + "/special_tokens_map.json");
  EXPECT_EQ(json::get_string(map, "eos_token", "m"), "<|im_end|>");
  // Loads back in r1 as the template it was trained with.
  const auto tok = model::Tokenizer::load(model_dir);
  EXPECT_TRUE(model::ChatTemplate::resolve("", *tok).same_as(model::ChatTemplate::by_name("chatml")));
  EXPECT_EQ(tok->eos_id(), kImEnd);
  // HF generate stops at the end of the turn as well as at the base model's eos.
  const json::Document gen = json::parse_file(model_dir + "/generation_config.json");
  EXPECT_EQ(json::opt_int_list(gen, "eos_token_id", "g"), (std::vector<int64_t>{kEndOfText, kImEnd}));
  EXPECT_EQ(json::opt_int_list(json::parse_file(model_dir + "/config.json"), "eos_token_id", "c"),
            std::vector<int64_t>{kEndOfText});
}

TEST_F(ChatSft, FinalAndCheckpointsCarryTheTemplateSpecialTokensAndEndOfTurnStop) {
  expect_chat_metadata(final_dir());
  expect_chat_metadata(stage("checkpoints/step-000020"));
  EXPECT_EQ(read_text(stage("checkpoints/step-000020/tokenizer_config.json")), read_text(final_dir() + "/tokenizer_config.json"));
  // The stage's chat tokenizer is what every directory copies; the generated base tokenizer is untouched.
  EXPECT_EQ(read_text(stage("chat_tokenizer/tokenizer_config.json")), read_text(final_dir() + "/tokenizer_config.json"));
  EXPECT_FALSE(exists(stage("tokenizer/tokenizer_config.json")));
}

TEST_F(ChatSft, GenerateChatStopsAtTheEndOfTurnAndPrintsOnlyTheAnswer) {
  for (const std::string& model : {final_dir(), stage("checkpoints/step-000020")}) {
    SCOPED_TRACE(model);
    const auto r = run_r1_cli("generate --model " + model +
                              R"( --chat '[{"role": "user", "content": "hi"}]' --greedy --max-new-tokens 12 --tokens)");
    ASSERT_EQ(r.status, 0) << r.err;
    const json::Document line = json::parse(r.out, "stdout");
    const std::string text = json::get_string(line, "text", "stdout");
    EXPECT_EQ(json::get_string(line, "finish", "stdout"), "eos") << r.out;
    const std::vector<int64_t> tokens = json::opt_int_list(line, "tokens", "stdout");
    ASSERT_FALSE(tokens.empty());
    EXPECT_EQ(tokens.back(), kImEnd) << r.out;
    for (const char* marker : {"<|im_start|>", "<|im_end|>", "<|endoftext|>", "assistant\n"}) {
      EXPECT_EQ(text.find(marker), std::string::npos) << marker << " in " << r.out;
    }
    if (model == final_dir()) {
      EXPECT_EQ(text, "ok");
    }
  }
  // Plain output: the answer alone; the summary on stderr.
  const auto plain = run_r1_cli("generate --model " + final_dir() +
                                R"( --chat '[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]' --greedy)");
  ASSERT_EQ(plain.status, 0) << plain.err;
  EXPECT_EQ(plain.out, "ok\n");
  EXPECT_NE(plain.err.find("finish: eos"), std::string::npos) << plain.err;
  // A file of conversations: one JSON line per row.
  write_text(dir_ + "/ask.jsonl",
             "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n"
             "{\"messages\": [{\"role\": \"user\", \"content\": \"hey\"}, {\"role\": \"assistant\", \"content\": \"ok\"}, "
             "{\"role\": \"user\", \"content\": \"hi\"}]}\n");
  const auto rows = run_r1_cli("generate --model " + final_dir() + " --chat-file " + dir_ + "/ask.jsonl --greedy");
  ASSERT_EQ(rows.status, 0) << rows.err;
  std::vector<std::string> lines;
  for (size_t at = 0, nl; (nl = rows.out.find('\n', at)) != std::string::npos; at = nl + 1) {
    lines.push_back(rows.out.substr(at, nl - at));
  }
  ASSERT_EQ(lines.size(), 2u) << rows.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const json::Document d = json::parse(lines[i], "line");
    EXPECT_EQ(json::get_int(d, "row", "line"), static_cast<int64_t>(i));
    EXPECT_EQ(json::get_string(d, "text", "line"), "ok") << lines[i];
    EXPECT_EQ(json::get_string(d, "finish", "line"), "eos") << lines[i];
  }
}

TEST_F(ChatSft, GenerateChatTemplateByNameStopsAtItsEndOfTurn) {
  // The same weights without the chat metadata: the tokenizer's eos is <|endoftext|> again and no template is
  // recorded, so only --chat-template gives one, and the stop at <|im_end|> comes from that template.
  const std::string bare = dir_ + "/bare";
  std::filesystem::create_directories(bare);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json"}) {
    std::filesystem::copy_file(final_dir() + "/" + f, bare + "/" + f, std::filesystem::copy_options::overwrite_existing);
  }
  const std::string chat = R"( --chat '[{"role": "user", "content": "hi"}]' --greedy --max-new-tokens 12)";
  const auto none = run_r1_cli("generate --model " + bare + chat);
  EXPECT_NE(none.status, 0);
  EXPECT_NE(none.err.find("the tokenizer has no chat_template"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("--chat-template NAME"), std::string::npos) << none.err;
  const auto named = run_r1_cli("generate --model " + bare + chat + " --chat-template chatml --tokens");
  ASSERT_EQ(named.status, 0) << named.err;
  const json::Document line = json::parse(named.out, "stdout");
  EXPECT_EQ(json::get_string(line, "text", "stdout"), "ok") << named.out;
  EXPECT_EQ(json::get_string(line, "finish", "stdout"), "eos") << named.out;
  EXPECT_EQ(json::opt_int_list(line, "tokens", "stdout").back(), kImEnd) << named.out;
}

TEST_F(ChatSft, GenerateChatInputErrorsNameTheOptionOrLine) {
  write_text(dir_ + "/bad.jsonl",
             "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}\n"
             "{\"messages\": [{\"role\": \"robot\", \"content\": \"hi\"}]}\n");
  write_text(dir_ + "/nomessages.jsonl", "{\"prompt\": \"hi\"}\n");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"(--chat '[{"role": "user"}]')", "--chat[0]: missing required key 'content'"},
      {R"(--chat '{"role": "user", "content": "hi"}')", "--chat: expected an array"},
      {R"(--chat '[{"role": "user", "content": "hi"')", "--chat:1:"},
      {R"(--chat '[]')", "--chat: no messages"},
      {"--chat-file " + dir_ + "/bad.jsonl", "bad.jsonl:2: messages[0]: unknown role 'robot'"},
      {"--chat-file " + dir_ + "/nomessages.jsonl", "nomessages.jsonl:1: missing required key 'messages'"},
      {"--chat-file " + dir_ + "/missing.jsonl", "missing.jsonl"},
      {R"(--chat '[{"role": "user", "content": "hi"}]' --chat-template nope)", "unknown chat template 'nope'"},
      {R"(--chat '[{"role": "user", "content": "hi"}]' --chat-template llama3)", "'<|eot_id|>' is not one token"},
      {"--prompt hi --tokens", "--tokens go with --chat"},
      {R"(--chat '[{"role": "user", "content": "hi"}]' --output x.safetensors)", "--output and --raw-prompt go with"},
      {R"(--chat '[{"role": "user", "content": "hi"}]' --prompt hi)", "exactly one of --prompt, --input, --chat"},
  };
  for (const auto& [args, expect] : cases) {
    const auto r = run_r1_cli("generate --model " + final_dir() + " " + args + " --max-new-tokens 2");
    EXPECT_NE(r.status, 0) << args;
    EXPECT_NE(r.err.find(expect), std::string::npos) << args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace r1::rl
