// Regex (ECMAScript-like subset) -> Expr. Internal; CompileRegex and JSON Schema's
// `pattern`/`format` use it.
//
// Supported: literals (UTF-8), . [...] [^...] with ranges and \d \w \s inside,
// \d \D \w \W \s \S, escapes \n \r \t \f \v \0 \xHH \uHHHH \u{H..} and escaped
// punctuation, groups ( ) (?: ) (?<name> ), alternation |, quantifiers * + ?
// {n} {n,} {n,m} (a lazy `?` suffix is accepted: whole-match semantics make it
// irrelevant), ^ at the start and $ at the end of the pattern or of a top-level
// alternative. Rejected with InvalidArgument: backreferences, lookaround, \b \B,
// anchors elsewhere, flags.
#pragma once

#include <string>
#include <string_view>

#include "constrain/expr.h"

namespace ax::constrain {

struct RegexOptions {
  // Match the text of a JSON string's contents: every character is emitted in
  // its JSON form (`"` as \", `\` as \\, controls as \n or \u00XX).
  bool json_string = false;
  // Search semantics (JSON Schema `pattern`): a side without an anchor may have
  // any text before/after the match.
  bool search = false;
};

// `where` prefixes error messages ("schema/properties/x/pattern").
Result<Expr> ParseRegex(std::string_view pattern, const RegexOptions& opt, const std::string& where);

// One character of a JSON string's contents, in JSON form (plain or escaped).
Expr JsonStringChar();

}  // namespace ax::constrain
