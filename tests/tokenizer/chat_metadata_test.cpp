// The HF metadata of chat models (model/tokenizer/chat_metadata.h) and r1's own Jinja templates
// (ChatTemplate::jinja()): for every built-in family, the tokenizer directory write_chat_tokenizer_dir makes is
// rendered by Python's jinja2 the way transformers' apply_chat_template does (render_chat_template.py) and must
// give byte for byte what r1 renders after loading that directory back (Tokenizer::load → resolve("")), on
// conversations with system prompts, several turns, DeepSeek-R1 reasoning, whitespace, Unicode, with and
// without the generation prompt; the written keys, the kept keys, and the choice of special tokens.
// The Jinja half skips when python3 or jinja2 is missing (scripts/install-deps.sh installs python3-jinja2).
#include <gtest/gtest.h>

#include "scratch_dir.h"
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "model/tokenizer/chat_metadata.h"
#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using r1::model::ChatMessage;
using r1::model::ChatOptions;
using r1::model::ChatTemplate;
using r1::model::Tokenizer;

// The markers of every built-in family, so one byte-level tokenizer fits them all.
const std::vector<std::string> kAllMarkers = {
    "<|endoftext|>",   "<|im_start|>",          "<|im_end|>",        "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
    "<｜User｜>",       "<｜Assistant｜>",         "<|begin_of_text|>", "<|end_of_text|>",        "<|start_header_id|>",
    "<|end_header_id|>", "<|eot_id|>"};

struct Conversation {
  std::string name;
  std::vector<ChatMessage> messages;
};

std::vector<Conversation> conversations() {
  return {
      {"empty", {}},
      {"user_only", {{"user", "What is 2+2?"}}},
      {"system_multi_turn",
       {{"system", "You are terse."}, {"user", "Hi"}, {"assistant", "Hello."}, {"user", "What is 3*4?"}}},
      {"r1_reasoning_in_an_earlier_turn",
       {{"system", "Reason step by step."},
        {"user", "What is 3*4?"},
        {"assistant", "<think>\n3*4 = 12.\n</think>\n\nThe answer is \\boxed{12}."},
        {"user", "And 5*6?"}}},
      {"r1_reasoning_in_the_final_turn", {{"user", "Is 7 prime?"}, {"assistant", "<think>\nNo divisor.\n</think>\n\nYes."}}},
      {"several_think_ends", {{"user", "q"}, {"assistant", "a</think>b</think>c"}, {"user", "next"}}},
      {"whitespace", {{"system", "  padded system \n"}, {"user", "\n  Hello  \n"}, {"assistant", " Hi there.\t"}}},
      {"two_system_messages", {{"system", "First rule."}, {"user", "Hi"}, {"system", "Second rule."}}},
      {"unicode_and_quotes", {{"user", "深度求索 🤖 — it's \"café\" {{ x }} {% raw %}"}, {"assistant", "好的 \\n"}}},
  };
}

class ChatMetadata : public r1::testing::ScratchDirTest {
 protected:
  void SetUp() override {
    ScratchDirTest::SetUp();
    fs::create_directories(dir_ / "src");
  }
  // A byte-level tokenizer with the given specials in `rel`, plus a tokenizer_config.json when given.
  std::unique_ptr<Tokenizer> source(const std::vector<std::string>& specials, const std::string& config = "",
                                    const std::string& rel = "src") {
    fs::create_directories(dir_ / rel);
    r1::write_file_atomic(path(rel + "/tokenizer.json"), r1::model::make_byte_level_tokenizer_json(specials));
    if (!config.empty()) r1::write_file_atomic(path(rel + "/tokenizer_config.json"), config);
    return Tokenizer::load(path(rel));
  }
  // The chat tokenizer directory of `name` written from `rel`.
  std::string chat_dir(const std::string& name, const std::string& rel = "src") {
    const auto tok = Tokenizer::load(path(rel));
    const ChatTemplate chat = ChatTemplate::resolve(name, *tok);
    const std::string out = path("chat_" + (name.empty() ? std::string("own") : name));
    r1::model::write_chat_tokenizer_dir(path(rel), out, chat, *tok);
    return out;
  }
};

r1::json::Document config_of(const std::string& dir) { return r1::json::parse_file(dir + "/tokenizer_config.json"); }
std::string str(const r1::json::Value& doc, const char* key) { return r1::json::get_string(doc, key, key); }

// Exit status of a shell command (-1 when it did not exit normally).
int shell(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

r1::json::Value messages_json(const std::vector<ChatMessage>& messages, r1::json::Document::AllocatorType& a) {
  r1::json::Value list(rapidjson::kArrayType);
  for (const auto& m : messages) {
    r1::json::Value o(rapidjson::kObjectType);
    o.AddMember("role", r1::json::Value(m.role.c_str(), a), a);
    o.AddMember("content", r1::json::Value(m.content.c_str(), a), a);
    list.PushBack(o, a);
  }
  return list;
}

TEST_F(ChatMetadata, JinjaRenderedLikeHfEqualsR1ForEveryFamilyAndConversation) {
  source(kAllMarkers);
  struct Expected {
    std::string what, text;
    bool error = false;
  };
  std::vector<Expected> expected;
  r1::json::Document cases(rapidjson::kObjectType);
  auto& a = cases.GetAllocator();
  r1::json::Value list(rapidjson::kArrayType);
  std::vector<std::vector<ChatMessage>> convs_with_bad_role = {{{"user", "hi"}, {"tool", "{}"}}};
  for (const std::string& name : ChatTemplate::names()) {
    const std::string dir = chat_dir(name);
    const auto tok = Tokenizer::load(dir);
    const ChatTemplate loaded = ChatTemplate::resolve("", *tok);  // what r1 reads back from the checkpoint
    ASSERT_TRUE(loaded.same_as(ChatTemplate::by_name(name))) << name << " loads back as " << loaded.name();
    std::vector<Conversation> convs = conversations();
    convs.push_back({"a_tool_role", {{"user", "hi"}, {"tool", "{}"}}});
    for (const Conversation& conv : convs) {
      for (const bool gen : {false, true}) {
        Expected e;
        e.what = name + " / " + conv.name + (gen ? " +generation prompt" : "");
        ChatOptions options;
        options.add_generation_prompt = gen;
        try {
          e.text = loaded.render(conv.messages, options);
        } catch (const r1::Error&) {
          e.error = true;
        }
        expected.push_back(e);
        r1::json::Value c(rapidjson::kObjectType);
        c.AddMember("dir", r1::json::Value(dir.c_str(), a), a);
        c.AddMember("messages", messages_json(conv.messages, a), a);
        c.AddMember("add_generation_prompt", gen, a);
        list.PushBack(c, a);
      }
    }
  }
  cases.AddMember("cases", list, a);
  r1::write_file_atomic(path("cases.json"), r1::json::dump(cases));
  const std::string script = std::string(R1_SOURCE_DIR) + "/tests/tokenizer/render_chat_template.py";
  const int rc = shell("python3 " + script + " " + path("cases.json") + " " + path("rendered.json") + " 2>" +
                       path("python.err"));
  if (rc == 127 || rc == 2) {
    GTEST_SKIP() << "python3 with jinja2 not available (exit " << rc
                 << "): install python3-jinja2 (scripts/install-deps.sh) to check the Jinja templates";
  }
  ASSERT_EQ(rc, 0) << r1::read_file(path("python.err"));
  const auto rendered = r1::json::parse_file(path("rendered.json"));
  const auto& results = rendered["results"];
  ASSERT_EQ(results.Size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].what);
    if (expected[i].error) {
      ASSERT_TRUE(results[i].HasMember("error")) << "Jinja rendered a role r1 refuses";
      EXPECT_NE(std::string(results[i]["error"].GetString()).find("has role tool"), std::string::npos);
    } else {
      ASSERT_TRUE(results[i].HasMember("text")) << results[i]["error"].GetString();
      EXPECT_EQ(results[i]["text"].GetString(), expected[i].text);
    }
  }
  EXPECT_EQ(expected.size(), ChatTemplate::names().size() * (conversations().size() + 1) * 2);
}

TEST_F(ChatMetadata, R1TemplateDropsEarlierReasoningAndKeepsTheFinalTurns) {
  source(kAllMarkers);
  const auto tok = Tokenizer::load(chat_dir("deepseek-r1"));
  const ChatTemplate t = ChatTemplate::resolve("", *tok);
  const std::vector<ChatMessage> conv = {
      {"user", "Q1"}, {"assistant", "<think>r1</think>A1"}, {"user", "Q2"}, {"assistant", "<think>r2</think>A2"}};
  EXPECT_EQ(t.render(conv), "<｜begin▁of▁sentence｜><｜User｜>Q1<｜Assistant｜>A1<｜end▁of▁sentence｜><｜User｜>Q2"
                            "<｜Assistant｜><think>r2</think>A2<｜end▁of▁sentence｜>");
  EXPECT_EQ(t.render({{"user", "Q"}}, {true, true}), "<｜begin▁of▁sentence｜><｜User｜>Q<｜Assistant｜><think>\n");
  EXPECT_NE(t.jinja().find("'<｜Assistant｜><think>\\n'"), std::string::npos);  // recognize() reads open_think there
  EXPECT_EQ(ChatTemplate::by_name("deepseek-v3").jinja().find("</think>"), std::string::npos);
}

TEST_F(ChatMetadata, WritesTheChatTemplateAndSpecialTokensHfReads) {
  const auto src = source({"<|endoftext|>", "<|im_start|>", "<|im_end|>"});
  EXPECT_EQ(src->eos_id(), 256);  // a base tokenizer: <|endoftext|>
  const std::string dir = chat_dir("chatml");
  for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    EXPECT_TRUE(fs::exists(dir + "/" + f)) << f;
  }
  EXPECT_EQ(r1::read_file(dir + "/tokenizer.json"), r1::read_file(path("src/tokenizer.json")));
  const auto config = config_of(dir);
  EXPECT_EQ(str(config, "tokenizer_class"), "PreTrainedTokenizerFast");
  EXPECT_EQ(str(config, "chat_template"), ChatTemplate::by_name("chatml").jinja());
  EXPECT_EQ(str(config, "eos_token"), "<|im_end|>");    // the end of an assistant turn
  EXPECT_EQ(str(config, "pad_token"), "<|endoftext|>"); // the base eos: never mistaken for an answer's end
  EXPECT_FALSE(config.HasMember("bos_token"));          // ChatML has none
  EXPECT_FALSE(r1::json::get_bool(config, "clean_up_tokenization_spaces", "config"));
  const auto map = r1::json::parse_file(dir + "/special_tokens_map.json");
  EXPECT_EQ(str(map, "eos_token"), "<|im_end|>");
  EXPECT_EQ(str(map, "pad_token"), "<|endoftext|>");
  const auto back = Tokenizer::load(dir);
  EXPECT_EQ(back->eos_id(), 258);
  EXPECT_EQ(back->pad_id(), 256);
  EXPECT_TRUE(ChatTemplate::resolve("", *back).same_as(ChatTemplate::by_name("chatml")));

  // DeepSeek and Llama write their BOS (their Jinja prints bos_token); a tokenizer without any eos pads with
  // the end-of-turn token.
  source({"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>"},
         R"({"eos_token": "<｜end▁of▁sentence｜>"})", "ds");
  const auto ds = config_of(chat_dir("deepseek-r1", "ds"));
  EXPECT_EQ(str(ds, "bos_token"), "<｜begin▁of▁sentence｜>");
  EXPECT_EQ(str(ds, "eos_token"), "<｜end▁of▁sentence｜>");
  EXPECT_EQ(str(ds, "pad_token"), "<｜end▁of▁sentence｜>");
}

TEST_F(ChatMetadata, KeepsTheKeysTheTokenizerHadAndDropsStaleTemplateFiles) {
  source({"<|endoftext|>", "<|im_start|>", "<|im_end|>", "<pad>"}, R"({
    "tokenizer_class": "Qwen2TokenizerFast", "model_max_length": 4096, "eos_token": "<|endoftext|>",
    "pad_token": {"content": "<pad>", "special": true}, "clean_up_tokenization_spaces": true,
    "added_tokens_decoder": {"258": {"content": "<|im_end|>", "special": true}}})");
  r1::write_file_atomic(path("src/special_tokens_map.json"), R"({"additional_special_tokens": ["<|im_start|>"]})");
  r1::write_file_atomic(path("src/chat_template.jinja"), "{{ 'stale' }}");
  const std::string dir = chat_dir("chatml");
  const auto config = config_of(dir);
  EXPECT_EQ(str(config, "tokenizer_class"), "Qwen2TokenizerFast");
  EXPECT_EQ(r1::json::get_int(config, "model_max_length", "config"), 4096);
  EXPECT_TRUE(config.HasMember("added_tokens_decoder"));
  EXPECT_TRUE(r1::json::get_bool(config, "clean_up_tokenization_spaces", "config"));  // the tokenizer's own choice
  EXPECT_EQ(str(config, "eos_token"), "<|im_end|>");
  EXPECT_EQ(str(config, "pad_token"), "<pad>");  // its own pad stays
  const auto map = r1::json::parse_file(dir + "/special_tokens_map.json");
  EXPECT_EQ(map["additional_special_tokens"].Size(), 1u);
  EXPECT_EQ(str(map, "eos_token"), "<|im_end|>");
  EXPECT_FALSE(fs::exists(dir + "/chat_template.jinja"));  // HF would prefer it over tokenizer_config.json
  EXPECT_EQ(str(config, "chat_template"), ChatTemplate::by_name("chatml").jinja());
}

TEST_F(ChatMetadata, KeepsTheTokenizersOwnTemplateWhenTrainingUsedIt) {
  const std::string reference = r1::read_file(std::string(R1_TEST_DATA) + "/tokenizers/chat_templates/qwen2_5.jinja");
  source({"<|endoftext|>", "<|im_start|>", "<|im_end|>"});
  r1::write_file_atomic(path("src/chat_template.jinja"), reference);
  const std::string own = chat_dir("");  // the tokenizer's template: Qwen2.5's, kept where it was
  EXPECT_EQ(r1::read_file(own + "/chat_template.jinja"), reference);
  EXPECT_FALSE(config_of(own).HasMember("chat_template"));
  EXPECT_EQ(str(config_of(own), "eos_token"), "<|im_end|>");
  // Named explicitly, another template replaces it.
  const std::string named = chat_dir("chatml");
  EXPECT_FALSE(fs::exists(named + "/chat_template.jinja"));
  EXPECT_EQ(str(config_of(named), "chat_template"), ChatTemplate::by_name("chatml").jinja());
}

TEST_F(ChatMetadata, ErrorsNameTheDirectory) {
  const auto tok = source({"<|endoftext|>", "<|im_start|>", "<|im_end|>"});
  const ChatTemplate chat = ChatTemplate::by_name("chatml");
  try {
    r1::model::write_chat_tokenizer_dir(path("src"), path("src"), chat, *tok);
    ADD_FAILURE() << "expected an error";
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("must not be the source directory"), std::string::npos) << e.what();
  }
  r1::write_file_atomic(path("src/tokenizer_config.json"), "[1]");
  try {
    r1::model::write_chat_tokenizer_dir(path("src"), path("out"), chat, *tok);
    ADD_FAILURE() << "expected an error";
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("out/tokenizer_config.json: expected a JSON object"), std::string::npos)
        << e.what();
  }
}

}  // namespace
