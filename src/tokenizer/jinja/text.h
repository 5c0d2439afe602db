// UTF-8 text helpers with Python's str semantics: code-point indexing, Python's idea of
// whitespace (str.isspace), and Unicode case mapping (ICU, locale-independent like
// CPython). Invalid UTF-8 bytes decode as U+FFFD one byte at a time and never throw.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ax::jinja {

// Decodes the code point at s[*i] and advances *i past it.
char32_t DecodeUtf8(std::string_view s, size_t* i);
void AppendUtf8(std::string* out, char32_t c);
// Byte offsets of each code point of s, plus s.size() at the end.
std::vector<size_t> CodePointOffsets(std::string_view s);
size_t CodePointCount(std::string_view s);

bool IsPyWhitespace(char32_t c);  // str.isspace()
bool IsPyPrintable(char32_t c);   // str.isprintable() (what repr() leaves unescaped)

std::string PyUpper(std::string_view s);
std::string PyLower(std::string_view s);
std::string PyTitle(std::string_view s);        // str.title()
std::string PyCapitalize(std::string_view s);   // str.capitalize()
std::string JinjaTitle(std::string_view s);     // Jinja2's |title filter (word split on -\s({[<)

// str.strip([chars]) family; chars == nullptr strips Python whitespace.
std::string PyStrip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split(sep=None, maxsplit=-1) and str.rsplit.
std::vector<std::string> PySplit(std::string_view s, const std::string* sep, long maxsplit);
std::vector<std::string> PyRSplit(std::string_view s, const std::string* sep, long maxsplit);
// str.replace(old, new, count=-1).
std::string PyReplace(std::string_view s, std::string_view from, std::string_view to, long count);
// str.splitlines() (keepends=False).
std::vector<std::string> PySplitLines(std::string_view s);

// HTML-escapes & < > " ' as markupsafe does.
std::string HtmlEscape(std::string_view s);

}  // namespace ax::jinja
