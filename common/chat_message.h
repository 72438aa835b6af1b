// One turn of a conversation. Shared by the SFT readers (datasets/) and the chat templates (model/), so a
// conversation read from JSONL goes to the template without conversion.
#pragma once

#include <string>

namespace r1 {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

}  // namespace r1
