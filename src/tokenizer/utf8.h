// UTF-8 helpers shared by the tokenizer components. All functions take raw bytes
// and never throw; "valid" means well-formed UTF-8 as Rust's str requires it
// (no surrogates, no overlongs, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ax::tok {

// Length of the UTF-8 sequence that starts with `lead` (1 for ASCII and for any
// byte that cannot start a sequence, so callers always make progress).
inline size_t Utf8SeqLen(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

// Decodes the code point at s[i] (which must be valid UTF-8) and advances i.
inline char32_t NextCodePoint(std::string_view s, size_t& i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  size_t n = Utf8SeqLen(c);
  char32_t cp = n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n && i + k < s.size(); ++k) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  }
  i += n;
  return cp;
}

void AppendUtf8(char32_t cp, std::string* out);

// Length of the valid UTF-8 sequence at s[i], or 0 if the bytes there are not one.
size_t ValidSeqLenAt(std::string_view s, size_t i);

bool IsValidUtf8(std::string_view s);

// Rust's String::from_utf8_lossy: every maximal invalid subpart becomes one U+FFFD.
std::string Utf8Lossy(std::string_view bytes);

// True when the text ends with U+FFFD, the mark of a sequence that later bytes
// may still complete (used by the incremental decoder to hold text back).
bool EndsWithReplacementChar(std::string_view s);

inline constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

}  // namespace ax::tok
