// Splits a chat completion's text into reasoning and content at the family's tags:
//
//   think   <think> … </think>, as Qwen3, QwQ, DeepSeek-R1 and GLM-4.x emit it:
//           "<think>\nplan\n</think>\n\nAnswer" → reasoning "\nplan\n", content "\n\nAnswer"
//   gemma4  <|channel>thought … <channel|> (special tokens: the text must keep them)
//
// (a template that already wrote "<think>" into the prompt starts the split inside the
// reasoning). Text is fed as it streams; a tail that could still become a tag is held
// back until the next piece decides it, so the pieces join to exactly the split of the
// whole text whatever the chunking: streamed and non-streamed answers agree byte for
// byte. Text before a first <think> is content; a second <think> is content too (only
// one reasoning block is split out, as the families above emit one).
#pragma once

#include <string>

namespace ax::server {

enum class ReasoningFormat { kThink, kGemma4 };

class ReasoningSplitter {
 public:
  struct Piece {
    std::string reasoning, content;
  };

  explicit ReasoningSplitter(bool start_in_reasoning = false, ReasoningFormat format = ReasoningFormat::kThink);

  // The parts of `text` (appended to what came before) that are decided now.
  Piece Feed(const std::string& text);
  // Everything still held back (the text ended).
  Piece Finish();
  // Whether the text is still inside the reasoning block (a length stop there leaves
  // the content empty).
  bool in_reasoning() const { return state_ == State::kReasoning; }

 private:
  enum class State { kBefore, kReasoning, kAfter };
  // Appends held_ text up to `end` to the part the current state owns.
  void Emit(Piece* out, size_t end);

  State state_;
  std::string open_, close_;
  std::string held_;  // undecided text: may be the start of the next tag
};

// Whether a model's rendered prompt opens a thinking block itself (the chat template
// wrote the opening tag last), so the completion starts inside the reasoning.
bool PromptOpensThinking(const std::string& rendered_prompt, ReasoningFormat format = ReasoningFormat::kThink);

}  // namespace ax::server
