// Code extraction from completions (rewards/code/code_extract.h): which fenced block is the program.
#include <gtest/gtest.h>

#include "rewards/code/code_extract.h"

namespace r1::rewards {
namespace {

std::string extract(const std::string& text, const std::string& language = "python", const std::string& mode = "auto",
                    bool after_think = true) {
  ExtractOptions o;
  o.language = language;
  o.mode = mode;
  o.after_think = after_think;
  std::string why;
  const auto code = extract_code(text, o, &why);
  return code ? *code : "<none: " + why + ">";
}

TEST(CodeExtract, LastBlockOfTheLanguageWins) {
  EXPECT_EQ(extract("```python\na = 1\n```\ntext\n```py\nb = 2\n```\n```js\nc = 3\n```\n"), "b = 2\n");
}

TEST(CodeExtract, TagsAreCaseInsensitiveAndAliasesCount) {
  EXPECT_EQ(extract("```Python3\nx\n```"), "x\n");
  EXPECT_EQ(extract("```C++\nint main(){}\n```", "cpp"), "int main(){}\n");
  EXPECT_EQ(extract("``` {.python .numberLines}\nx\n```"), "x\n");
}

TEST(CodeExtract, UntaggedBlockIsTheFallback) {
  EXPECT_EQ(extract("```\nuntagged\n```\n```text\nprose\n```"), "untagged\n");
}

TEST(CodeExtract, OtherLanguagesOnlyMeansNoCode) {
  EXPECT_EQ(extract("```js\nx\n```"), "<none: no python code block>");
}

TEST(CodeExtract, TildeFencesAndLongerFencesNest) {
  EXPECT_EQ(extract("~~~python\nprint('```')\n~~~\n"), "print('```')\n");
  EXPECT_EQ(extract("````python\n```\ninner\n```\n````\n"), "```\ninner\n```\n");
}

TEST(CodeExtract, UnclosedLastBlockRunsToTheEnd) {
  EXPECT_EQ(extract("Here:\n```python\ndef f():\n    return 1"), "def f():\n    return 1\n");
}

TEST(CodeExtract, OnlyAfterTheLastThink) {
  const std::string text = "<think>\n```python\nwrong\n```\n</think>\n```python\nright\n```";
  EXPECT_EQ(extract(text), "right\n");
  EXPECT_EQ(extract("<think>\n```python\nwrong\n```\n</think>\nno code here", "python", "block"),
            "<none: no code in the completion>");
  EXPECT_EQ(extract(text, "python", "auto", false), "right\n");
}

TEST(CodeExtract, WholeCompletionWithoutFences) {
  EXPECT_EQ(extract("    return 1"), "    return 1");
  EXPECT_EQ(extract("    return 1", "python", "block"), "<none: no code in the completion>");
  EXPECT_EQ(extract("   \n  "), "<none: no code in the completion>");
  EXPECT_EQ(extract("```python\nx\n```", "python", "whole"), "```python\nx\n```");
}

TEST(CodeExtract, IndentedFencesUpToThreeSpacesAndCrlf) {
  EXPECT_EQ(extract("   ```python\r\nx = 1\r\n   ```\r\n"), "x = 1\n");
  EXPECT_EQ(extract("    ```python\n    x\n    ```"), "    ```python\n    x\n    ```");  // 4 spaces: not a fence
}

TEST(CodeExtract, FencedBlocksListsEveryBlock) {
  const auto blocks = fenced_blocks("```a\n1\n```\n```\n2\n```\n```b\n3");
  ASSERT_EQ(blocks.size(), 3u);
  EXPECT_EQ(blocks[0].tag, "a");
  EXPECT_EQ(blocks[1].tag, "");
  EXPECT_FALSE(blocks[2].closed);
}

}  // namespace
}  // namespace r1::rewards
