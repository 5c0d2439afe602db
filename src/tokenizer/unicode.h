// Unicode character predicates with the meaning Rust gives them (Hugging Face
// tokenizers is Rust), backed by ICU.
#pragma once

#include <string>

namespace ax::tok {

bool IsWhiteSpace(char32_t c);   // Rust char::is_whitespace (White_Space property)
bool IsWordChar(char32_t c);     // Rust regex \w: Alphabetic, M, Nd, Pc, Join_Control
bool IsNumeric(char32_t c);      // Rust char::is_numeric: Nd, Nl, No
// Rust char::to_lowercase of one code point (full mapping, no context), appended.
void AppendLowercase(char32_t c, std::string* out);

}  // namespace ax::tok
