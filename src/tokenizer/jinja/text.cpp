#include "tokenizer/jinja/text.h"

#include <unicode/uchar.h>
#include <unicode/ucasemap.h>

#include <memory>

#include "tokenizer/jinja/error.h"

namespace ax::jinja {

char32_t DecodeUtf8(std::string_view s, size_t* i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(*i);
  int len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xE ? 3 : (b0 >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || *i + static_cast<size_t>(len) > s.size()) {
    ++*i;
    return b0 < 0x80 ? b0 : 0xFFFD;
  }
  char32_t c = len == 1 ? b0 : len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (int k = 1; k < len; ++k) {
    unsigned char b = byte(*i + static_cast<size_t>(k));
    if ((b & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    c = (c << 6) | (b & 0x3F);
  }
  *i += static_cast<size_t>(len);
  return c;
}

void AppendUtf8(std::string* out, char32_t c) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::vector<size_t> CodePointOffsets(std::string_view s) {
  std::vector<size_t> offsets;
  size_t i = 0;
  while (i < s.size()) {
    offsets.push_back(i);
    DecodeUtf8(s, &i);
  }
  offsets.push_back(s.size());
  return offsets;
}

size_t CodePointCount(std::string_view s) {
  size_t n = 0;
  for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xC0) != 0x80;
  return n;
}

bool IsPyWhitespace(char32_t c) {
  switch (c) {
    case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
    case 0x1C: case 0x1D: case 0x1E: case 0x1F: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

bool IsPyPrintable(char32_t c) {
  if (c == ' ') return true;
  switch (u_charType(static_cast<UChar32>(c))) {
    case U_CONTROL_CHAR: case U_FORMAT_CHAR: case U_SURROGATE: case U_PRIVATE_USE_CHAR:
    case U_UNASSIGNED: case U_LINE_SEPARATOR: case U_PARAGRAPH_SEPARATOR: case U_SPACE_SEPARATOR:
      return false;
    default:
      return true;
  }
}

namespace {

struct CaseMapCloser {
  void operator()(UCaseMap* m) const { ucasemap_close(m); }
};

// Full (multi-character) case mapping of UTF-8 text in the root locale.
std::string CaseMap(std::string_view s, bool upper) {
  if (s.empty()) return {};
  UErrorCode err = U_ZERO_ERROR;
  std::unique_ptr<UCaseMap, CaseMapCloser> map(ucasemap_open("", 0, &err));
  if (U_FAILURE(err)) throw Error("case mapping unavailable");
  std::string out(s.size() * 3 + 16, '\0');
  auto run = [&]() {
    err = U_ZERO_ERROR;
    auto fn = upper ? ucasemap_utf8ToUpper : ucasemap_utf8ToLower;
    return fn(map.get(), out.data(), static_cast<int32_t>(out.size()), s.data(), static_cast<int32_t>(s.size()), &err);
  };
  int32_t n = run();
  if (err == U_BUFFER_OVERFLOW_ERROR) {
    out.resize(static_cast<size_t>(n));
    n = run();
  }
  if (U_FAILURE(err)) return std::string(s);  // invalid UTF-8: leave it alone
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string CodePointText(char32_t c) {
  std::string s;
  AppendUtf8(&s, c);
  return s;
}

std::string TitleChar(char32_t c) {
  std::string s;
  AppendUtf8(&s, static_cast<char32_t>(u_totitle(static_cast<UChar32>(c))));
  return s;
}

bool IsCased(char32_t c) { return u_hasBinaryProperty(static_cast<UChar32>(c), UCHAR_CASED); }

bool InChars(char32_t c, const std::string& chars) {
  size_t i = 0;
  while (i < chars.size()) {
    if (DecodeUtf8(chars, &i) == c) return true;
  }
  return false;
}

}  // namespace

std::string PyUpper(std::string_view s) { return CaseMap(s, true); }
std::string PyLower(std::string_view s) { return CaseMap(s, false); }

std::string PyTitle(std::string_view s) {
  std::string out;
  bool prev_cased = false;
  size_t i = 0;
  while (i < s.size()) {
    char32_t c = DecodeUtf8(s, &i);
    out += prev_cased ? CaseMap(CodePointText(c), false) : TitleChar(c);
    prev_cased = IsCased(c);
  }
  return out;
}

std::string PyCapitalize(std::string_view s) {
  if (s.empty()) return {};
  size_t i = 0;
  char32_t first = DecodeUtf8(s, &i);
  return TitleChar(first) + CaseMap(s.substr(i), false);
}

std::string JinjaTitle(std::string_view s) {
  std::string out;
  bool word_start = true;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    char32_t c = DecodeUtf8(s, &i);
    bool sep = c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || IsPyWhitespace(c);
    if (sep) {
      out.append(s.substr(start, i - start));
      word_start = true;
    } else {
      out += CaseMap(s.substr(start, i - start), word_start);
      word_start = false;
    }
  }
  return out;
}

std::string PyStrip(std::string_view s, const std::string* chars, bool left, bool right) {
  std::vector<size_t> off = CodePointOffsets(s);
  size_t n = off.size() - 1;
  auto strip_at = [&](size_t k) {
    size_t i = off[k];
    char32_t c = DecodeUtf8(s, &i);
    return chars == nullptr ? IsPyWhitespace(c) : InChars(c, *chars);
  };
  size_t b = 0, e = n;
  if (left) {
    while (b < e && strip_at(b)) ++b;
  }
  if (right) {
    while (e > b && strip_at(e - 1)) --e;
  }
  return std::string(s.substr(off[b], off[e] - off[b]));
}

namespace {

// Whitespace-run split (sep=None). Returns [begin, end) byte ranges.
std::vector<std::pair<size_t, size_t>> WhitespaceRuns(std::string_view s) {
  std::vector<std::pair<size_t, size_t>> words;
  size_t i = 0;
  size_t word_start = std::string::npos;
  while (i < s.size()) {
    size_t at = i;
    char32_t c = DecodeUtf8(s, &i);
    if (IsPyWhitespace(c)) {
      if (word_start != std::string::npos) words.emplace_back(word_start, at);
      word_start = std::string::npos;
    } else if (word_start == std::string::npos) {
      word_start = at;
    }
  }
  if (word_start != std::string::npos) words.emplace_back(word_start, s.size());
  return words;
}

}  // namespace

std::vector<std::string> PySplit(std::string_view s, const std::string* sep, long maxsplit) {
  std::vector<std::string> out;
  if (sep == nullptr) {
    auto words = WhitespaceRuns(s);
    for (size_t k = 0; k < words.size(); ++k) {
      if (maxsplit >= 0 && static_cast<long>(k) == maxsplit) {
        out.push_back(PyStrip(s.substr(words[k].first), nullptr, false, true));
        return out;
      }
      out.emplace_back(s.substr(words[k].first, words[k].second - words[k].first));
    }
    return out;
  }
  if (sep->empty()) throw Error("empty separator");
  size_t pos = 0;
  long splits = 0;
  while (maxsplit < 0 || splits < maxsplit) {
    size_t hit = s.find(*sep, pos);
    if (hit == std::string::npos) break;
    out.emplace_back(s.substr(pos, hit - pos));
    pos = hit + sep->size();
    ++splits;
  }
  out.emplace_back(s.substr(pos));
  return out;
}

std::vector<std::string> PyRSplit(std::string_view s, const std::string* sep, long maxsplit) {
  std::vector<std::string> out;
  if (sep == nullptr) {
    auto words = WhitespaceRuns(s);
    long taken = 0;
    size_t k = words.size();
    while (k > 0) {
      --k;
      if (maxsplit >= 0 && taken == maxsplit) {
        out.push_back(PyStrip(s.substr(0, words[k].second), nullptr, true, false));
        break;
      }
      out.emplace_back(s.substr(words[k].first, words[k].second - words[k].first));
      ++taken;
    }
    return {out.rbegin(), out.rend()};
  }
  if (sep->empty()) throw Error("empty separator");
  size_t end = s.size();
  long splits = 0;
  while (maxsplit < 0 || splits < maxsplit) {
    if (end < sep->size()) break;
    size_t hit = s.rfind(*sep, end - sep->size());
    if (hit == std::string::npos) break;
    out.emplace_back(s.substr(hit + sep->size(), end - hit - sep->size()));
    end = hit;
    ++splits;
  }
  out.emplace_back(s.substr(0, end));
  return {out.rbegin(), out.rend()};
}

std::string PyReplace(std::string_view s, std::string_view from, std::string_view to, long count) {
  std::string out;
  long done = 0;
  if (from.empty()) {
    std::vector<size_t> off = CodePointOffsets(s);
    for (size_t k = 0; k + 1 < off.size(); ++k) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      out.append(s.substr(off[k], off[k + 1] - off[k]));
    }
    if (count < 0 || done < count) out += to;
    return out;
  }
  size_t pos = 0;
  while (count < 0 || done < count) {
    size_t hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s.substr(pos, hit - pos));
    out += to;
    pos = hit + from.size();
    ++done;
  }
  out.append(s.substr(pos));
  return out;
}

std::vector<std::string> PySplitLines(std::string_view s) {
  std::vector<std::string> out;
  size_t line_start = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t at = i;
    char32_t c = DecodeUtf8(s, &i);
    bool brk = c == '\n' || c == '\r' || c == '\v' || c == '\f' || c == 0x1C || c == 0x1D || c == 0x1E ||
               c == 0x85 || c == 0x2028 || c == 0x2029;
    if (!brk) continue;
    out.emplace_back(s.substr(line_start, at - line_start));
    if (c == '\r' && i < s.size() && s[i] == '\n') ++i;
    line_start = i;
  }
  if (line_start < s.size()) out.emplace_back(s.substr(line_start));
  return out;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  return out;
}

}  // namespace ax::jinja
