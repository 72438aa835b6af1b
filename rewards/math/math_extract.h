// Finding the final answer in a model completion (and in a dataset's gold field).
//
// A completion yields an ordered list of candidate answer strings; the verifier parses them in order
// and keeps the first that parses. The order follows math-verify's priorities (the reference Python
// verifier), so that both pick the same answer on real model outputs:
//   0. the last \boxed{...} / \fbox{...} (balanced braces; adjacent boxes "\boxed{2} and \boxed{3}" are
//      merged into a list), GSM8K "#### N", "final answer ... is X";
//   1. "answer: X" (a formula or number within 50 characters after "answer:");
//   2. "answer ... X" without a colon ("The answer is 18.");
//   3. fallback (configurable): the last math formula ($...$, $$...$$, \(...\), \[...\]) or the last
//      number in the text, rightmost first (a clock time or ratio, "12:00 pm", "3:4", is one number).
// Within one priority the candidate that ends last in the text comes first. When the completion has
// <answer>...</answer> (the R1-Zero template) only the inside of the last such block is searched; when it
// has </think> (the R1 template) the text after it is searched first, the whole text second.
//
// Every scan is linear and the candidate count is capped, so a 1 MB completion costs one pass.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace r1::rewards::math {

struct ExtractOptions {
  bool answer_tags = true;  // search only inside the last <answer>...</answer> when there is one
  bool after_think = true;  // search the text after the last </think> first
  bool require_answer_tags = false;  // no <answer>...</answer>: no answer (R1-Zero's "specified format")
  bool fallback = true;     // priority 3: last formula / last number when nothing is anchored
  size_t max_candidates = 16;
  size_t max_answer_chars = 4000;  // longer candidates are skipped
};

struct Candidate {
  std::string text;    // the raw answer text (LaTeX or plain)
  std::string source;  // "boxed", "####", "final_answer", "answer:", "answer", "formula", "number"
  int priority = 0;
  size_t end = 0;      // end offset in the searched text
};

// Calls fn on the candidates of a completion, best first, until fn returns true. Lower stages (the
// "answer" phrases, the fallback scans) are only computed when every earlier candidate was rejected,
// which is what keeps a verification of a boxed answer to a few microseconds.
void for_each_candidate(std::string_view completion, const ExtractOptions& options,
                        const std::function<bool(const Candidate&)>& fn);

// All candidates of a completion, best first (for tests and tools).
std::vector<Candidate> extract_candidates(std::string_view completion, const ExtractOptions& options);

// The direct readings of a dataset gold field: "#### 72" (GSM8K), text with \boxed{...}, "<answer>",
// or a bare answer possibly wrapped in one formula ("$\frac{1}{2}$", "\left( 3, \frac{\pi}{2} \right)",
// "27.0"). When none of them parses, the caller searches the field like a completion (a full solution).
std::vector<Candidate> gold_candidates(std::string_view gold, const ExtractOptions& options);

// The content of the last \boxed{...} (merging adjacent boxes with ","), or false when there is none.
bool last_boxed(std::string_view text, std::string& content, size_t& end);

}  // namespace r1::rewards::math
