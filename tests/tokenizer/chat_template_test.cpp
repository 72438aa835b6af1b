// Chat templates: every case of tests/fixtures/tokenizers/chat_templates/expected.json (the real DeepSeek-R1,
// DeepSeek-V3, Qwen2.5, Llama 3 and Llama 3.1 templates rendered by Jinja2 with transformers' settings)
// must render byte for byte after the family is recognised from the template text; the trainable mask
// must cover exactly the assistant content and its end token; recognition, resolution and errors.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.h"
#include "common/fs.h"
#include "common/json.h"
#include "model/tokenizer/chat_template.h"
#include "model/tokenizer/tokenizer.h"

namespace {

using r1::model::ChatFamily;
using r1::model::ChatMessage;
using r1::model::ChatOptions;
using r1::model::ChatSegment;
using r1::model::ChatTemplate;
using r1::model::Tokenizer;

const std::string kDir = std::string(R1_TEST_DATA) + "/tokenizers/chat_templates";

std::vector<ChatMessage> messages_of(const r1::json::Value& list) {
  std::vector<ChatMessage> out;
  for (const auto& m : list.GetArray()) out.push_back({m["role"].GetString(), m["content"].GetString()});
  return out;
}

TEST(ChatTemplate, RendersLikeTheReferenceJinjaTemplates) {
  const auto expected = r1::json::parse_file(kDir + "/expected.json");
  size_t n = 0;
  for (const auto& c : expected["cases"].GetArray()) {
    const std::string file = c["template"].GetString();
    SCOPED_TRACE(file + " / " + c["conversation"].GetString() + (c["add_generation_prompt"].GetBool() ? " +gen" : ""));
    std::optional<std::string> bos;
    if (c["bos_token"].IsString()) bos = c["bos_token"].GetString();
    const auto t = ChatTemplate::recognize(r1::read_file(kDir + "/" + file), bos);
    ASSERT_TRUE(t.has_value());
    ChatOptions options;
    options.add_generation_prompt = c["add_generation_prompt"].GetBool();
    options.keep_final_reasoning = false;  // the reference string
    EXPECT_EQ(t->render(messages_of(c["messages"]), options), c["text"].GetString());
    ++n;
  }
  EXPECT_EQ(n, 80u);
}

TEST(ChatTemplate, RecognisesEachFamilyAndItsParameters) {
  auto load = [](const char* f) { return ChatTemplate::recognize(r1::read_file(kDir + "/" + f), std::nullopt); };
  auto r1t = load("deepseek_r1.jinja");
  ASSERT_TRUE(r1t);
  EXPECT_EQ(r1t->name(), "deepseek-r1");
  EXPECT_TRUE(r1t->drop_reasoning);
  EXPECT_TRUE(r1t->open_think);
  EXPECT_EQ(r1t->generation_prompt(), "<｜Assistant｜><think>\n");
  auto v3 = load("deepseek_v3.jinja");
  EXPECT_EQ(v3->name(), "deepseek-v3");
  EXPECT_FALSE(v3->drop_reasoning);
  EXPECT_EQ(v3->generation_prompt(), "<｜Assistant｜>");
  auto qwen = load("qwen2_5.jinja");
  EXPECT_EQ(qwen->family(), ChatFamily::kChatML);
  EXPECT_EQ(qwen->default_system, "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.");
  EXPECT_EQ(qwen->end_of_turn(), "<|im_end|>");
  auto l31 = load("llama3_1.jinja");
  EXPECT_EQ(l31->name(), "llama3.1");
  EXPECT_EQ(l31->date_string, "26 Jul 2024");
  EXPECT_EQ(l31->knowledge_cutoff, "December 2023");
  EXPECT_EQ(load("llama3.jinja")->name(), "llama3");
  EXPECT_FALSE(ChatTemplate::recognize("{{ messages[0].content }}", std::nullopt).has_value());
  EXPECT_THROW(ChatTemplate::recognize("<|im_start|>{% if enable_thinking %}", std::nullopt), r1::Error);
}

TEST(ChatTemplate, BuiltInNamesEqualTheRecognisedTemplates) {
  const std::vector<ChatMessage> conv = {{"system", "S"}, {"user", "Q?"}, {"assistant", "<think>r</think>A"}, {"user", "Q2"}};
  const std::vector<std::pair<const char*, const char*>> pairs = {
      {"deepseek-r1", "deepseek_r1.jinja"}, {"deepseek-v3", "deepseek_v3.jinja"}, {"qwen", "qwen2_5.jinja"},
      {"llama3", "llama3.jinja"}, {"llama3.1", "llama3_1.jinja"}};
  for (const auto& [name, file] : pairs) {
    SCOPED_TRACE(name);
    const auto recognised = ChatTemplate::recognize(r1::read_file(kDir + "/" + file), std::nullopt);
    const auto named = ChatTemplate::by_name(name);
    EXPECT_EQ(named.render(conv, {true, true}), recognised->render(conv, {true, true}));
  }
  EXPECT_EQ(ChatTemplate::by_name("r1").name(), "deepseek-r1");
  EXPECT_EQ(ChatTemplate::by_name("chatml").render({{"user", "hi"}}), "<|im_start|>user\nhi<|im_end|>\n");
  EXPECT_THROW(ChatTemplate::by_name("vicuna"), r1::Error);
}

TEST(ChatTemplate, TrainableSegmentsAreAssistantContentAndEndToken) {
  const std::vector<ChatMessage> conv = {
      {"user", "What is 3*4?"}, {"assistant", "<think>\n3*4=12\n</think>\n\n12"}, {"user", "5*6?"},
      {"assistant", "<think>\n30\n</think>\n\n30"}};
  // R1: the earlier turn loses its reasoning, the final one keeps it (default).
  const auto r1t = ChatTemplate::by_name("deepseek-r1");
  const auto segs = r1t.render_segments(conv);
  ASSERT_EQ(segs.size(), 4u);
  EXPECT_EQ(segs[0].text, "<｜begin▁of▁sentence｜><｜User｜>What is 3*4?<｜Assistant｜>");
  EXPECT_FALSE(segs[0].trainable);
  EXPECT_EQ(segs[1].text, "\n\n12<｜end▁of▁sentence｜>");
  EXPECT_TRUE(segs[1].trainable);
  EXPECT_EQ(segs[2].text, "<｜User｜>5*6?<｜Assistant｜>");
  EXPECT_EQ(segs[3].text, "<think>\n30\n</think>\n\n30<｜end▁of▁sentence｜>");
  EXPECT_TRUE(segs[3].trainable);
  // The reference string drops the final reasoning too.
  EXPECT_EQ(r1t.render(conv, {false, false}).find("<think>\n30"), std::string::npos);

  const auto chatml = ChatTemplate::by_name("qwen").render_segments({{"user", "hi"}, {"assistant", "yo"}}, {true, true});
  ASSERT_EQ(chatml.size(), 3u);
  EXPECT_EQ(chatml[1].text, "yo<|im_end|>");
  EXPECT_TRUE(chatml[1].trainable);
  EXPECT_EQ(chatml[2].text, "\n<|im_start|>assistant\n");
  EXPECT_FALSE(chatml[2].trainable);

  const auto llama = ChatTemplate::by_name("llama3").render_segments({{"user", "hi"}, {"assistant", "  yo \n"}});
  ASSERT_EQ(llama.size(), 2u);
  EXPECT_EQ(llama[1].text, "yo<|eot_id|>");  // trimmed like the template's |trim
}

TEST(ChatTemplate, UnsupportedRoleIsAnError) {
  try {
    ChatTemplate::by_name("qwen").render({{"user", "a"}, {"tool", "b"}});
    FAIL() << "expected an error";
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("role 'tool'"), std::string::npos) << e.what();
  }
}

class ChatTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("r1_chat_tok_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ChatTokenizerTest, ResolvesTheTemplateFromTokenizerConfigAndMasksTokens) {
  r1::write_file_atomic((dir_ / "tokenizer.json").string(),
                        r1::model::make_byte_level_tokenizer_json({"<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>",
                                                                   "<｜User｜>", "<｜Assistant｜>"}));
  // tokenizer_config.json with the real R1 template as its chat_template.
  r1::json::Document config(rapidjson::kObjectType);
  auto& a = config.GetAllocator();
  const std::string jinja = r1::read_file(kDir + "/deepseek_r1.jinja");
  config.AddMember("bos_token", "<｜begin▁of▁sentence｜>", a);
  config.AddMember("eos_token", "<｜end▁of▁sentence｜>", a);
  config.AddMember("chat_template", r1::json::Value(jinja.c_str(), static_cast<rapidjson::SizeType>(jinja.size()), a), a);
  r1::write_file_atomic((dir_ / "tokenizer_config.json").string(), r1::json::dump(config));

  const auto tok = Tokenizer::load(dir_.string());
  EXPECT_EQ(tok->bos_id(), 256);
  EXPECT_EQ(tok->eos_id(), 257);
  const auto t = ChatTemplate::resolve("", *tok);
  EXPECT_EQ(t.name(), "deepseek-r1");
  const auto chat = r1::model::tokenize_chat(*tok, t.render_segments({{"user", "2+2?"}, {"assistant", "4"}}));
  // BOS User '2' '+' '2' '?' Assistant | '4' EOS
  const std::vector<int64_t> ids = {256, 258, '2', '+', '2', '?', 259, '4', 257};
  EXPECT_EQ(chat.ids, ids);
  const std::vector<uint8_t> mask = {0, 0, 0, 0, 0, 0, 0, 1, 1};
  EXPECT_EQ(chat.trainable, mask);
  // A template whose markers the tokenizer lacks is refused.
  EXPECT_THROW(ChatTemplate::resolve("qwen", *tok), r1::Error);
  EXPECT_THROW(ChatTemplate::resolve("llama3", *tok), r1::Error);
}

TEST(ChatTokenizer, NoTemplateInConfigIsAClearError) {
  const auto tok = Tokenizer::load(std::string(R1_TEST_DATA) + "/tokenizers/bpe_qwen2_regex");
  try {
    ChatTemplate::resolve("auto", *tok);
    FAIL() << "expected an error";
  } catch (const r1::Error& e) {
    EXPECT_NE(std::string(e.what()).find("no chat_template"), std::string::npos) << e.what();
  }
  // By name it works: the fixture has <|im_start|> / <|im_end|> as special tokens.
  const auto t = ChatTemplate::resolve("chatml", *tok);
  const auto chat = r1::model::tokenize_chat(*tok, t.render_segments({{"user", "hi"}, {"assistant", "ok"}}, {false, true}));
  ASSERT_FALSE(chat.ids.empty());
  EXPECT_EQ(tok->decode(chat.ids), "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nok<|im_end|>\n");
  // Trainable ids decode to exactly the assistant content and its end token.
  std::vector<int64_t> trained;
  for (size_t i = 0; i < chat.ids.size(); ++i)
    if (chat.trainable[i]) trained.push_back(chat.ids[i]);
  EXPECT_EQ(tok->decode(trained), "ok<|im_end|>");
}

}  // namespace
