// See arithmetic.h.
#include "datasets/arithmetic.h"

#include <algorithm>
#include <cctype>
#include <unordered_set>


#include "common/error.h"
#include "common/seed.h"

namespace r1::data {
namespace {

struct Draw {
  uint64_t state;
  uint64_t next() { return state = splitmix64(state); }
  uint64_t below(uint64_t n) { return next() % n; }
  double unit() { return static_cast<double>(next() >> 11) / 9007199254740992.0; }
};

uint64_t pow10(int d) {
  uint64_t p = 1;
  while (d-- > 0) p *= 10;
  return p;
}

// A number with 1..max_digits digits, the digit count uniform (so small numbers are not rare).
uint64_t draw_operand(Draw& draw, int max_digits) {
  int digits = 1 + static_cast<int>(draw.below(static_cast<uint64_t>(max_digits)));
  uint64_t lo = digits == 1 ? 0 : pow10(digits - 1);
  return lo + draw.below(pow10(digits) - lo);
}

std::string digits_of(uint64_t v) { return std::to_string(v); }

// An operand as written in the question.
std::string operand(uint64_t v, const ArithmeticConfig& config) {
  std::string s = std::to_string(v);
  if (config.pad_operands && static_cast<int>(s.size()) < config.max_digits) {
    s.insert(0, static_cast<size_t>(config.max_digits) - s.size(), '0');
  }
  return s;
}

// Ends the column steps `out` ("..., so 32 carry 1. ") with the final answer: when the last partial already
// is the answer ("..., so 31. "), the steps end there; otherwise (a final carry, leading zeros) they add
// "so 132".
std::string finish_steps(std::string out, const std::string& partial) {
  size_t nz = partial.find_first_not_of('0');  // strip leading zeros, keep one digit
  const std::string answer = nz == std::string::npos ? "0" : partial.substr(nz);
  const std::string last_partial = ", so " + partial + ". ";
  if (answer == partial && out.size() >= last_partial.size() &&
      out.compare(out.size() - last_partial.size(), last_partial.size(), last_partial) == 0) {
    return out.substr(0, out.size() - 2);
  }
  return out + "so " + answer;
}

std::string addition_steps(uint64_t a, uint64_t b) {
  std::string sa = digits_of(a), sb = digits_of(b), partial, out;
  int carry = 0;
  size_t n = std::max(sa.size(), sb.size());
  for (size_t i = 0; i < n; ++i) {
    int da = i < sa.size() ? sa[sa.size() - 1 - i] - '0' : 0;
    int db = i < sb.size() ? sb[sb.size() - 1 - i] - '0' : 0;
    int sum = da + db + carry;
    out += std::to_string(da) + "+" + std::to_string(db) + (carry ? "+1" : "") + "=" + std::to_string(sum);
    carry = sum / 10;
    partial.insert(partial.begin(), static_cast<char>('0' + sum % 10));
    out += ", so " + partial + (carry ? " carry 1. " : ". ");
  }
  if (carry) partial.insert(partial.begin(), '1');
  return finish_steps(out, partial);
}

std::string subtraction_steps(uint64_t a, uint64_t b) {  // a >= b
  std::string sa = digits_of(a), sb = digits_of(b), partial, out;
  int borrow = 0;
  for (size_t i = 0; i < sa.size(); ++i) {
    int da = sa[sa.size() - 1 - i] - '0';
    int db = i < sb.size() ? sb[sb.size() - 1 - i] - '0' : 0;
    int top = da - borrow;  // the column's digit after the incoming borrow (may be -1)
    if (top < db) {         // borrow: "15-7=8"
      out += std::to_string(top + 10) + "-" + std::to_string(db) + "=" + std::to_string(top + 10 - db);
      partial.insert(partial.begin(), static_cast<char>('0' + (top + 10 - db)));
      borrow = 1;
      out += ", so " + partial + " borrow 1. ";
    } else {
      out += std::to_string(da) + (borrow ? "-1" : "") + "-" + std::to_string(db) + "=" + std::to_string(top - db);
      partial.insert(partial.begin(), static_cast<char>('0' + (top - db)));
      borrow = 0;
      out += ", so " + partial + ". ";
    }
  }
  return finish_steps(out, partial);
}

std::string multiplication_steps(uint64_t a, uint64_t m) {  // m is one digit
  std::string sa = digits_of(a), partial, out;
  int carry = 0;
  for (size_t i = 0; i < sa.size(); ++i) {
    int da = sa[sa.size() - 1 - i] - '0';
    int prod = da * static_cast<int>(m) + carry;
    out += std::to_string(da) + "*" + std::to_string(m) + (carry ? "+" + std::to_string(carry) : "") + "=" +
           std::to_string(prod);
    carry = prod / 10;
    partial.insert(partial.begin(), static_cast<char>('0' + prod % 10));
    out += ", so " + partial + (carry ? " carry " + std::to_string(carry) + ". " : ". ");
  }
  if (carry) partial.insert(0, std::to_string(carry));
  return finish_steps(out, partial);
}

}  // namespace

uint64_t stable_hash(const std::string& text) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

ArithmeticProblem arithmetic_problem(const ArithmeticConfig& config, uint64_t seed, uint64_t index) {
  R1_CHECK(config.max_digits >= 1 && config.max_digits <= 9, "arithmetic: max_digits must be in 1..9, got ",
           config.max_digits);
  const double total = config.add_weight + config.sub_weight + config.mul_weight;
  R1_CHECK(total > 0 && config.add_weight >= 0 && config.sub_weight >= 0 && config.mul_weight >= 0,
           "arithmetic: operation weights must be >= 0 with a positive sum");
  R1_CHECK(config.heldout_modulus >= 2, "arithmetic: heldout_modulus must be >= 2");
  Draw draw{splitmix64(seed * 0x100000001B3ull + index)};
  double pick = draw.unit() * total;
  ArithmeticProblem p;
  uint64_t a = draw_operand(draw, config.max_digits);
  if (pick < config.add_weight) {
    uint64_t b = draw_operand(draw, config.max_digits);
    p.question = operand(a, config) + " + " + operand(b, config);
    p.steps = addition_steps(a, b);
    p.answer = digits_of(a + b);
  } else if (pick < config.add_weight + config.sub_weight) {
    uint64_t b = draw_operand(draw, config.max_digits);
    if (a < b) std::swap(a, b);
    p.question = operand(a, config) + " - " + operand(b, config);
    p.steps = subtraction_steps(a, b);
    p.answer = digits_of(a - b);
  } else {
    uint64_t m = 2 + draw.below(8);
    p.question = operand(a, config) + " * " + digits_of(m);
    p.steps = multiplication_steps(a, m);
    p.answer = digits_of(a * m);
  }
  p.heldout = stable_hash(p.question) % config.heldout_modulus == 0;
  return p;
}

std::vector<ArithmeticProblem> arithmetic_problems(const ArithmeticConfig& config, uint64_t seed, size_t count,
                                                   bool heldout, bool distinct) {
  std::vector<ArithmeticProblem> out;
  out.reserve(count);
  // Held-out problems are ~1/modulus of the stream; bound the walk so a degenerate config cannot spin.
  const uint64_t limit = static_cast<uint64_t>(count) * config.heldout_modulus * 64 + 1024;
  std::unordered_set<std::string> seen;  // distinct questions only
  for (uint64_t i = 0; out.size() < count && i < limit; ++i) {
    ArithmeticProblem p = arithmetic_problem(config, seed, i);
    if (p.heldout == heldout && (!distinct || seen.insert(p.question).second)) out.push_back(std::move(p));
  }
  R1_CHECK(out.size() == count, "arithmetic: could only draw ", out.size(), " of ", count, " ",
           heldout ? "held-out" : "train", " problems (too few distinct questions for max_digits=", config.max_digits,
           ")");
  return out;
}

namespace {

// Tag names of the instructed-transcript style. "think" and "answer" are among them, but the pair
// (think, answer) — the R1-Zero format — is never drawn.
// Tag names of instructed transcripts. The first 6 reasoning and 5 result names are the original pools
// (TranscriptOptions::tag_names 0); a larger pool takes the first N of each list, so that the model cannot
// learn which result tag follows which reasoning tag and has to copy both from the instruction.
const char* const kReasoningTags[] = {"think", "work", "steps", "reasoning", "scratch", "notes", "plan", "draft",
                                      "calc", "trace", "method", "working", "thoughts", "analysis", "derivation",
                                      "process", "explain", "check", "logic", "path"};
const char* const kResultTags[] = {"answer", "result", "final", "output", "solution", "reply", "value", "sum",
                                   "response", "conclusion", "outcome", "total", "verdict", "ans", "res",
                                   "number", "end", "box", "key", "final_answer"};
constexpr int kMaxTagNames = sizeof(kResultTags) / sizeof(kResultTags[0]);
static_assert(sizeof(kReasoningTags) == sizeof(kResultTags), "both tag lists have kMaxTagNames names");

// Instructions that describe an answer format with tags <A> and <B>, in several wordings (none is the
// R1-Zero template's).
std::string instruction(int wording, const std::string& a, const std::string& b) {
  const std::string oa = "<" + a + ">", ca = "</" + a + ">", ob = "<" + b + ">", cb = "</" + b + ">";
  switch (wording) {
    case 0:
      return "Below, an assistant answers a question from a user. It writes its working inside " + oa + " " + ca +
             " and its result inside " + ob + " " + cb + ", e.g. " + oa + " working here " + ca + " " + ob +
             " result here " + cb + ".";
    case 1:
      return "A chat between a user and an assistant. The assistant shows the reasoning in " + oa + " " + ca +
             " tags and then gives the answer in " + ob + " " + cb + " tags, i.e., " + oa + " reasoning here " + ca +
             " " + ob + " answer here " + cb + ".";
    case 2:
      return "The user asks a question, and the assistant replies with the steps enclosed within " + oa + " " + ca +
             " and the final answer enclosed within " + ob + " " + cb + ".";
    default:
      return "Answer format: " + oa + " steps " + ca + " " + ob + " answer " + cb + ".";
  }
}

// Chat-framing sentences put before an instruction (the first 0 to max_framing of them, in order), so that
// questions sit as far into a document as they do under a long system prompt, after words of the kind
// such prompts use. None is a sentence of the R1-Zero template.
const char* const kFraming[] = {
    "This is a chat between a user and a helpful assistant.",
    "The user poses a problem, and the assistant works it out.",
    "The assistant reasons step by step before it gives a reply.",
    "Replies always use the format that is described here.",
    "Every reply holds the reasoning first and the result after it.",
    "The assistant thinks the problem over in its mind before it writes the final result.",
    "Each part of a reply is enclosed in its own pair of tags.",
    "The problems are short sums, differences and products of numbers.",
    "Numbers are read digit by digit, from the rightmost column to the left.",
    "The conversation goes on with the question of the user and the reply of the assistant.",
};
constexpr int kFramingSentences = sizeof(kFraming) / sizeof(kFraming[0]);

// Words of the noise preamble some transcripts open with (everyday words, in random order): text the model
// must read past to find the instruction and the question, as under a system prompt it has never seen.
const char* const kNoiseWords[] = {
    "the", "a", "of", "and", "to", "in", "is", "it", "that", "this", "with", "for", "on", "as", "was", "at",
    "by", "from", "or", "be", "are", "an", "we", "you", "they", "all", "can", "will", "one", "two", "some",
    "time", "day", "work", "page", "note", "text", "line", "word", "name", "place", "group", "system", "part",
    "list", "form", "case", "point", "way", "set", "number", "order", "rule", "kind", "model", "data", "task",
    "user", "reply", "chat", "answer", "question", "thought", "reason", "step", "result", "value", "sum",
    "first", "next", "last", "new", "old", "good", "long", "short", "small", "large", "each", "other", "same",
    "read", "write", "give", "take", "make", "show", "find", "keep", "use", "follow", "see", "know", "think",
    "process", "within", "between", "before", "after", "below", "above", "here", "there", "then", "also",
    "conversation", "assistant", "mind", "provides", "solves", "enclosed", "respectively", "tags", "format"};
constexpr uint64_t kNoiseWordCount = sizeof(kNoiseWords) / sizeof(kNoiseWords[0]);

// "Word word word. Word word ..." of `count` words in sentences of 4 to 11 words.
std::string noise_preamble(Draw& draw, uint64_t count) {
  std::string out;
  uint64_t left_in_sentence = 0;
  for (uint64_t i = 0; i < count; ++i) {
    std::string w = kNoiseWords[draw.below(kNoiseWordCount)];
    if (left_in_sentence == 0) {
      left_in_sentence = 4 + draw.below(8);
      w[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(w[0])));
    }
    out += w;
    out += --left_in_sentence == 0 || i + 1 == count ? ". " : " ";
  }
  return out;
}

}  // namespace

std::string arithmetic_document(const ArithmeticProblem& p, int style, uint64_t variant,
                                const TranscriptOptions& transcript) {
  switch (((style % kBaseCorpusStyles) + kBaseCorpusStyles) % kBaseCorpusStyles) {
    case 0:  // plain prose
      return "Problem: " + p.question + "\nSolution: " + p.steps + ". The answer is " + p.answer + ".";
    case 1:  // worked notes marked up with a think tag, answer in prose
      return "Q: " + p.question + " <think> " + p.steps + " </think> The result is " + p.answer + ".";
    case 2:  // a key with an answer tag, no reasoning
      return "Q: " + p.question + " <answer> " + p.answer + " </answer>";
    case 3:  // equation form
      return p.question + " = " + p.answer + " because " + p.steps + ".";
    default: {  // a transcript that follows a format its instruction describes
      Draw draw{splitmix64(variant ^ 0x7A65ull)};
      const int pool = std::clamp(transcript.tag_names, 0, kMaxTagNames);
      const uint64_t kA = pool > 0 ? pool : 6, kB = pool > 0 ? pool : 5;
      uint64_t ia = draw.below(kA), ib = draw.below(kB);
      if (ia == 0 && ib == 0) ib = 1 + draw.below(kB - 1);  // never (think, answer)
      const std::string a = kReasoningTags[ia], b = kResultTags[ib];
      std::string framing;
      const int most = std::clamp(transcript.max_framing, 0, kFramingSentences);
      for (uint64_t i = 0, n = draw.below(static_cast<uint64_t>(most) + 1); i < n; ++i) {
        framing += std::string(kFraming[i]) + " ";
      }
      const std::string wording = instruction(static_cast<int>(draw.below(4)), a, b);
      // Drawn after the old draws, so documents without noise (max_noise_words 0) are unchanged; likewise
      // the follow draw (follow_rate 1: no draw).
      const int noise = transcript.max_noise_words;
      if (noise > 0) framing = noise_preamble(draw, draw.below(static_cast<uint64_t>(noise) + 1)) + framing;
      const bool follows = transcript.follow_rate >= 1.0 || draw.unit() < transcript.follow_rate;
      const std::string reply = "<" + a + "> " + p.steps + " </" + a + "> " +
                                (follows ? "<" + b + "> " + p.answer + " </" + b + ">" : "The result is " + p.answer + ".");
      return framing + wording + " User: " + p.question + ". Assistant: " + reply;
    }
  }
}

}  // namespace r1::data
