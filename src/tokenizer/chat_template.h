// Chat templates: tokenizer_config.json's `chat_template` (Jinja) rendered by our own
// interpreter (Debian has no C++ Jinja library), byte-identical to Hugging Face's
// apply_chat_template for the templates real models ship (Qwen3, Gemma 3, Llama 3).
#pragma once

#include <memory>
#include <string>

#include "ax/status.h"

namespace ax {

class ChatTemplate {
 public:
  virtual ~ChatTemplate() = default;

  // Reads dir/tokenizer_config.json: `chat_template` as a string, or a list of
  // {"name", "template"} (the one named "default" is used), plus bos_token/eos_token
  // (string or {"content": ...}). A separate dir/chat_template.jinja wins when present,
  // as in transformers. NotFound when the model has no template; parse errors name the
  // file, line and column.
  static Result<std::unique_ptr<ChatTemplate>> LoadFromDir(const std::string& dir);
  static Result<std::unique_ptr<ChatTemplate>> FromSource(const std::string& source, const std::string& bos_token,
                                                         const std::string& eos_token);

  // Renders with a JSON object as the context, e.g.
  //   {"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true,
  //    "tools": [...], "enable_thinking": false}
  // bos_token and eos_token are added unless the context sets them. Errors from the
  // template (raise_exception, type errors) come back as InvalidArgument with the
  // template's message.
  virtual Result<std::string> Render(const std::string& context_json) const = 0;
};

}  // namespace ax
