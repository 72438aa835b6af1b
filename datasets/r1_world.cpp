// See r1_world.h.
#include "datasets/r1_world.h"

#include "common/error.h"
#include "common/seed.h"

namespace r1::data {
namespace {

// "a. b. c" → {"a", "b", "c"} (the step separator of arithmetic.h's English steps).
std::vector<std::string> split_steps(const std::string& steps) {
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t at; (at = steps.find(". ", from)) != std::string::npos; from = at + 2) {
    out.push_back(steps.substr(from, at - from));
  }
  out.push_back(steps.substr(from));
  return out;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
  return text;
}

// One English step in Chinese: "4+8+1=13, so 32 carry 1" → "4+8+1=13，写 32 进 1"; "so 132" → "所以 132".
std::string step_in_chinese(const std::string& step) {
  std::string s = step.rfind("so ", 0) == 0 ? "所以 " + step.substr(3) : step;
  s = replace_all(std::move(s), ", so ", "，写 ");
  s = replace_all(std::move(s), " carry ", " 进 ");
  return replace_all(std::move(s), " borrow ", " 借 ");
}

double unit(uint64_t& state) { return static_cast<double>(splitmix64_next(state) >> 11) / 9007199254740992.0; }

const Topic kTopics[] = {
    {"apple", "苹果", "red", "红"},       {"sky", "天空", "blue", "蓝"},        {"snow", "雪", "white", "白"},
    {"grass", "草", "green", "绿"},       {"sun", "太阳", "hot", "热"},         {"ice", "冰", "cold", "冷"},
    {"night", "夜晚", "dark", "暗"},      {"sugar", "糖", "sweet", "甜"},       {"lemon", "柠檬", "sour", "酸"},
    {"river", "河", "long", "长"},        {"mountain", "山", "high", "高"},     {"stone", "石头", "hard", "硬"},
    {"cotton", "棉花", "soft", "软"},     {"elephant", "大象", "big", "大"},    {"ant", "蚂蚁", "small", "小"},
    {"rabbit", "兔子", "fast", "快"},     {"turtle", "乌龟", "slow", "慢"},     {"fire", "火", "bright", "亮"},
    {"feather", "羽毛", "light", "轻"},   {"iron", "铁", "heavy", "重"},        {"coffee", "咖啡", "bitter", "苦"},
    {"salt", "盐", "salty", "咸"},        {"desert", "沙漠", "dry", "干"},      {"sea", "大海", "wide", "宽"},
    {"crow", "乌鸦", "black", "黑"},      {"banana", "香蕉", "yellow", "黄"},   {"orange", "橙子", "round", "圆"},
    {"road", "路", "flat", "平"},         {"glass", "玻璃", "clear", "透明"},   {"well", "井", "deep", "深"},
    {"needle", "针", "sharp", "尖"},      {"flower", "花", "pretty", "美"},
};
constexpr size_t kTopicCount = sizeof(kTopics) / sizeof(kTopics[0]);

const char* const kEnPhrasings[kGeneralPhrasings][2] = {
    {"Tell me about the ", "."}, {"What do you know about the ", "?"}, {"Describe the ", "."},
    {"Say something about the ", "."}};
const char* const kZhPhrasings[kGeneralPhrasings][2] = {{"请介绍一下", "。"}, {"你知道", "吗？"}, {"描述一下", "。"}, {"说说", "。"}};

// A topic other than `topic` among the first `count`, drawn from `variant`.
size_t other_topic(size_t topic, uint64_t variant, size_t count) {
  R1_CHECK(count >= 2 && count <= kTopicCount && topic < count, "r1 world: topic ", topic, " of ", count,
           " (2..", kTopicCount, " topics)");
  return (topic + 1 + splitmix64(variant) % (count - 1)) % count;
}

std::string fact_sentence(size_t topic, Lang lang, size_t fact_of) {
  const Topic& t = kTopics[topic];
  return lang == Lang::En ? std::string("The ") + t.en + " is " + kTopics[fact_of].en_fact + "."
                          : std::string(t.zh) + "是" + kTopics[fact_of].zh_fact + "的。";
}

std::string good_reply(size_t topic, Lang lang, size_t fact_of) {
  return fact_sentence(topic, lang, fact_of) + (lang == Lang::En ? " I hope this helps." : "希望对你有帮助。");
}

}  // namespace

const char* lang_code(Lang lang) { return lang == Lang::En ? "en" : "zh"; }

std::string localize_steps(const std::string& en_steps, double zh_rate, uint64_t variant) {
  const std::vector<std::string> steps = split_steps(en_steps);
  uint64_t state = splitmix64(variant ^ 0x1A6Bull);
  std::string out;
  for (size_t i = 0; i < steps.size(); ++i) {
    const bool zh = zh_rate >= 1.0 || (zh_rate > 0.0 && unit(state) < zh_rate);
    out += zh ? step_in_chinese(steps[i]) : steps[i];
    if (i + 1 < steps.size()) out += zh ? "。" : ". ";
  }
  return out;
}

std::string WorldProblem::question() const {
  return lang == Lang::En ? problem.question : "计算 " + problem.question;
}

std::string WorldProblem::steps(double zh_step_rate, uint64_t variant) const {
  if (zh_step_rate < 0) zh_step_rate = lang == Lang::Zh ? 1.0 : 0.0;
  return localize_steps(problem.steps, zh_step_rate, variant);
}

std::string WorldProblem::readable_answer() const {
  return "<think>\n" + steps() + "\n</think>\n\n" +
         (lang == Lang::En ? "The answer is " + problem.answer + "." : "答案是 " + problem.answer + "。");
}

const std::vector<Topic>& world_topics() {
  static const std::vector<Topic> topics(std::begin(kTopics), std::end(kTopics));
  return topics;
}

const char* reply_name(Reply kind) {
  static const char* const names[kReplyKinds] = {"good", "wrong_fact", "wrong_language", "off_topic", "repeated",
                                                 "truncated"};
  return names[static_cast<int>(kind)];
}

std::string topic_fact(size_t topic, Lang lang) { return fact_sentence(topic, lang, topic); }

std::string GeneralPrompt::text() const {
  const Topic& t = kTopics[topic];
  const auto& p = lang == Lang::En ? kEnPhrasings[phrasing] : kZhPhrasings[phrasing];
  return std::string(p[0]) + (lang == Lang::En ? t.en : t.zh) + p[1];
}

std::string GeneralPrompt::reply(Reply kind, uint64_t variant) const {
  const Lang other_lang = lang == Lang::En ? Lang::Zh : Lang::En;
  switch (kind) {
    case Reply::Good:
      return good_reply(topic, lang, topic);
    case Reply::WrongFact: {
      size_t fact_of = other_topic(topic, variant, topic_count);
      return good_reply(topic, lang, fact_of);
    }
    case Reply::WrongLanguage:
      return good_reply(topic, other_lang, topic);
    case Reply::OffTopic:
      return good_reply(other_topic(topic, variant, topic_count), lang, other_topic(topic, variant, topic_count));
    case Reply::Repeated: {
      const std::string s = fact_sentence(topic, lang, topic);
      return lang == Lang::En ? s + " " + s + " " + s + " " + s : s + s + s + s;
    }
    case Reply::Truncated:  // cut before the fact: "The apple is" | "苹果是"
      return lang == Lang::En ? std::string("The ") + kTopics[topic].en + " is" : std::string(kTopics[topic].zh) + "是";
  }
  fail("r1 world: unknown reply kind");
}

}  // namespace r1::data
