#include "tokenizer/jinja/template.h"

#include <new>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/parser.h"

namespace ax::jinja {
namespace {

Status ToStatus(const Error& e) {
  if (e.kind() == ErrorKind::kRaised || !e.has_position()) return InvalidArgument(e.what());
  return InvalidArgument("line " + std::to_string(e.line()) + ", column " + std::to_string(e.column()) + ": " +
                         e.what());
}

}  // namespace

Result<Template> Template::Parse(std::string_view source, const LexerOptions& options) {
  try {
    Template t;
    t.body_ = std::make_shared<const Body>(jinja::Parse(Tokenize(source, options)));
    return t;
  } catch (const Error& e) {
    return ToStatus(e);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while parsing the template");
  }
}

Result<std::string> Template::Render(const Dict& context, const RenderOptions& options) const {
  try {
    auto globals = std::make_shared<Frame>();
    InstallGlobals(globals.get());
    auto frame = std::make_shared<Frame>(globals);
    for (const auto& [name, value] : context.items()) frame->Set(name, value);
    Interpreter interp(options.limits, options.now);
    return interp.Render(*body_, frame);
  } catch (const Error& e) {
    return ToStatus(e);
  } catch (const std::bad_alloc&) {
    return ResourceExhausted("out of memory while rendering the template");
  } catch (const std::exception& e) {
    return Internal(std::string("template rendering failed: ") + e.what());
  }
}

}  // namespace ax::jinja
