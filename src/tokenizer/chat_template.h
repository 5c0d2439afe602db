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
  // With template_file: its text is the template (a user's override, e.g. the server's
  // --chat-template), the special tokens still come from dir; a missing file is NotFound
  // naming it.
  static Result<std::unique_ptr<ChatTemplate>> LoadFromDir(const std::string& dir,
                                                          const std::string& template_file = "");
  static Result<std::unique_ptr<ChatTemplate>> FromSource(const std::string& source, const std::string& bos_token,
                                                         const std::string& eos_token);

  // Renders with a JSON object as the context, e.g.
  //   {"messages": [{"role": "user", "content": "hi"}], "add_generation_prompt": true,
  //    "tools": [...], "enable_thinking": false}
  // Like transformers' apply_chat_template, the template also sees, unless the context
  // sets them: the special tokens (bos_token, eos_token, and from LoadFromDir also
  // unk/pad/sep/cls/mask_token, additional_special_tokens and extra_special_tokens;
  // a token that is null or "" is left undefined), tools = none, documents = none and
  // add_generation_prompt = false. Object key order is kept (tojson prints it).
  // "_ax_now": "YYYY-MM-DD[THH:MM:SS]" pins the clock strftime_now() reads (tests);
  // it is not a template variable. Errors from the template come back as
  // InvalidArgument: raise_exception(msg) as exactly msg, other errors as
  // "line L, column C: <what>".
  virtual Result<std::string> Render(const std::string& context_json) const = 0;
  // The Jinja text (the server reads which tool-call syntax a template teaches).
  virtual const std::string& source() const = 0;
};

}  // namespace ax
