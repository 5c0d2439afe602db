#include "tokenizer/jinja/lexer.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/text.h"

namespace ax::jinja {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || IsDigit(c); }

// Length of the Python-whitespace run at s[pos].
size_t WhitespaceRun(std::string_view s, size_t pos) {
  size_t i = pos;
  while (i < s.size()) {
    size_t next = i;
    if (!IsPyWhitespace(DecodeUtf8(s, &next))) break;
    i = next;
  }
  return i - pos;
}

bool AllWhitespace(std::string_view s) { return !s.empty() && WhitespaceRun(s, 0) == s.size(); }

std::string RStripWhitespace(std::string_view s) { return PyStrip(s, nullptr, false, true); }

class Lexer {
 public:
  Lexer(std::string source, const LexerOptions& options) : src_(std::move(source)), opt_(options) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  std::vector<Token> Run() {
    while (pos_ < src_.size()) LexRoot();
    Token eof;
    eof.type = TokenType::kEof;
    SetPosition(&eof, src_.size());
    tokens_.push_back(eof);
    return std::move(tokens_);
  }

 private:
  [[noreturn]] void Fail(const std::string& message, size_t at) const {
    int line = 0, col = 0;
    Locate(at, &line, &col);
    throw Error(message, ErrorKind::kSyntax, line, col);
  }

  void Locate(size_t at, int* line, int* col) const {
    auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), at);
    size_t index = static_cast<size_t>(it - line_starts_.begin()) - 1;
    *line = static_cast<int>(index) + 1;
    *col = static_cast<int>(at - line_starts_[index]) + 1;
  }

  void SetPosition(Token* t, size_t at) const { Locate(at, &t->line, &t->column); }

  void Push(TokenType type, std::string value, size_t at) {
    Token t;
    t.type = type;
    t.value = std::move(value);
    SetPosition(&t, at);
    tokens_.push_back(std::move(t));
  }

  bool At(size_t p, std::string_view s) const { return src_.compare(p, s.size(), s) == 0; }

  // Text up to the next tag, then the tag.
  void LexRoot() {
    size_t tag = pos_;
    while (true) {
      tag = src_.find('{', tag);
      if (tag == std::string::npos || tag + 1 >= src_.size()) {
        Push(TokenType::kText, src_.substr(pos_), pos_);
        pos_ = src_.size();
        return;
      }
      char c = src_[tag + 1];
      if (c == '{' || c == '%' || c == '#') break;
      ++tag;
    }
    char kind = src_[tag + 1];
    char sign = tag + 2 < src_.size() && (src_[tag + 2] == '-' || src_[tag + 2] == '+') ? src_[tag + 2] : '\0';
    std::string text = src_.substr(pos_, tag - pos_);
    if (sign == '-') {
      text = RStripWhitespace(text);
    } else if (sign != '+' && opt_.lstrip_blocks && kind != '{') {
      size_t l_pos = text.rfind('\n');
      l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
      if ((l_pos > 0 || line_starting_) && AllWhitespace(std::string_view(text).substr(l_pos))) text.resize(l_pos);
    }
    if (!text.empty()) Push(TokenType::kText, std::move(text), pos_);
    line_starting_ = false;
    size_t body = tag + 2 + (sign != '\0' ? 1 : 0);
    if (kind == '#') {
      LexComment(tag, body);
    } else if (kind == '%' && LexRaw(tag, body)) {
      // handled
    } else {
      Push(kind == '{' ? TokenType::kVariableBegin : TokenType::kBlockBegin, kind == '{' ? "{{" : "{%", tag);
      pos_ = body;
      LexTag(kind == '{');
    }
  }

  // After the closing marker of a tag: '-' strips whitespace, trim_blocks one newline.
  void AfterTagEnd(char sign, bool is_block) {
    if (sign == '-') {
      pos_ += WhitespaceRun(src_, pos_);
    } else if (sign != '+' && is_block && opt_.trim_blocks && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
    }
  }

  void LexComment(size_t tag, size_t body) {
    size_t p = body;
    while (p < src_.size()) {
      if (At(p, "+#}") || At(p, "-#}") || At(p, "#}")) break;
      ++p;
    }
    if (p >= src_.size()) Fail("missing end of comment tag", tag);
    char sign = src_[p] == '#' ? '\0' : src_[p];
    pos_ = p + (sign != '\0' ? 3 : 2);
    AfterTagEnd(sign, true);
    line_starting_ = src_[pos_ - 1] == '\n';
  }

  // {% raw %}...{% endraw %}: the body is text. Returns false if the tag is not `raw`.
  bool LexRaw(size_t tag, size_t body) {
    size_t p = body + WhitespaceRun(src_, body);
    if (!At(p, "raw")) return false;
    p += 3;
    p += WhitespaceRun(src_, p);
    char sign = '\0';
    if (At(p, "-%}")) {
      sign = '-';
    } else if (!At(p, "%}")) {
      return false;
    }
    pos_ = p + (sign ? 3 : 2);
    if (sign == '-') pos_ += WhitespaceRun(src_, pos_);
    // Find {%[-+]? endraw [-+]?%}
    size_t q = pos_;
    while (true) {
      q = src_.find("{%", q);
      if (q == std::string::npos) Fail("missing end of raw directive", tag);
      size_t r = q + 2;
      char end_sign = r < src_.size() && (src_[r] == '-' || src_[r] == '+') ? src_[r] : '\0';
      if (end_sign) ++r;
      r += WhitespaceRun(src_, r);
      if (!At(r, "endraw")) {
        q += 2;
        continue;
      }
      r += 6;
      r += WhitespaceRun(src_, r);
      char close_sign = (At(r, "-%}") || At(r, "+%}")) ? src_[r] : '\0';
      if (!close_sign && !At(r, "%}")) Fail("missing end of raw directive", tag);
      std::string text = src_.substr(pos_, q - pos_);
      if (end_sign == '-') {
        text = RStripWhitespace(text);
      } else if (end_sign != '+' && opt_.lstrip_blocks) {
        size_t l_pos = text.rfind('\n');
        l_pos = l_pos == std::string::npos ? 0 : l_pos + 1;
        if (l_pos > 0 && AllWhitespace(std::string_view(text).substr(l_pos))) text.resize(l_pos);
      }
      if (!text.empty()) Push(TokenType::kText, std::move(text), pos_);
      pos_ = r + (close_sign ? 3 : 2);
      AfterTagEnd(close_sign, true);
      line_starting_ = src_[pos_ - 1] == '\n';
      return true;
    }
  }

  // Tokens inside {{ }} or {% %} up to the closing marker.
  void LexTag(bool variable) {
    std::vector<char> balance;
    size_t open = pos_;
    while (true) {
      if (pos_ >= src_.size()) Fail(variable ? "unexpected end of template, expected '}}'" : "unexpected end of template, expected '%}'", open);
      if (balance.empty() && TryTagEnd(variable)) return;
      size_t ws = WhitespaceRun(src_, pos_);
      if (ws > 0) {
        pos_ += ws;
        continue;
      }
      char c = src_[pos_];
      if (IsDigit(c)) {
        LexNumber();
      } else if (IsNameStart(c)) {
        size_t start = pos_;
        while (pos_ < src_.size() && IsNameChar(src_[pos_])) ++pos_;
        Push(TokenType::kName, src_.substr(start, pos_ - start), start);
      } else if (c == '\'' || c == '"') {
        LexString();
      } else {
        LexOperator(&balance);
      }
    }
  }

  bool TryTagEnd(bool variable) {
    const char* close = variable ? "}}" : "%}";
    char sign = '\0';
    if ((src_[pos_] == '-' || src_[pos_] == '+') && At(pos_ + 1, close)) {
      sign = src_[pos_];
      if (variable && sign == '+') return false;  // `+}}` is an operator then `}}`
    } else if (!At(pos_, close)) {
      return false;
    }
    Push(variable ? TokenType::kVariableEnd : TokenType::kBlockEnd, close, pos_);
    pos_ += sign ? 3 : 2;
    AfterTagEnd(sign, !variable);
    line_starting_ = src_[pos_ - 1] == '\n';
    return true;
  }

  void LexNumber() {
    size_t start = pos_;
    std::string digits;
    auto take_digits = [&](auto pred) {
      while (pos_ < src_.size() && (pred(src_[pos_]) || (src_[pos_] == '_' && pos_ + 1 < src_.size() && pred(src_[pos_ + 1])))) {
        if (src_[pos_] != '_') digits += src_[pos_];
        ++pos_;
      }
    };
    Token t;
    SetPosition(&t, start);
    if (src_[pos_] == '0' && pos_ + 1 < src_.size() && std::string_view("xXoObB").find(src_[pos_ + 1]) != std::string_view::npos) {
      char base_char = static_cast<char>(src_[pos_ + 1] | 0x20);
      int base = base_char == 'x' ? 16 : base_char == 'o' ? 8 : 2;
      pos_ += 2;
      take_digits([base](char ch) { return base == 16 ? std::isxdigit(static_cast<unsigned char>(ch)) != 0 : ch >= '0' && ch < '0' + base; });
      if (digits.empty()) Fail("invalid number literal", start);
      t.type = TokenType::kInteger;
      t.int_value = static_cast<int64_t>(std::strtoull(digits.c_str(), nullptr, base));
    } else {
      take_digits(IsDigit);
      bool is_float = false;
      if (pos_ + 1 < src_.size() && src_[pos_] == '.' && IsDigit(src_[pos_ + 1]) &&
          !(start > 0 && src_[start - 1] == '.')) {
        digits += '.';
        ++pos_;
        take_digits(IsDigit);
        is_float = true;
      }
      if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
        size_t save = pos_;
        std::string save_digits = digits;
        digits += 'e';
        ++pos_;
        if (pos_ < src_.size() && (src_[pos_] == '+' || src_[pos_] == '-')) digits += src_[pos_++];
        size_t before = digits.size();
        take_digits(IsDigit);
        if (digits.size() == before) {
          pos_ = save;
          digits = save_digits;
        } else {
          is_float = true;
        }
      }
      t.type = is_float ? TokenType::kFloat : TokenType::kInteger;
      if (is_float) {
        t.float_value = std::strtod(digits.c_str(), nullptr);
      } else {
        errno = 0;
        t.int_value = std::strtoll(digits.c_str(), nullptr, 10);
        if (errno == ERANGE) Fail("integer literal too large", start);
      }
    }
    t.value = src_.substr(start, pos_ - start);
    tokens_.push_back(std::move(t));
  }

  void LexString() {
    size_t start = pos_;
    char quote = src_[pos_++];
    std::string out;
    while (true) {
      if (pos_ >= src_.size()) Fail(std::string("unexpected char '") + quote + "'", start);
      char c = src_[pos_];
      if (c == quote) {
        ++pos_;
        break;
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      if (pos_ + 1 >= src_.size()) Fail(std::string("unexpected char '") + quote + "'", start);
      ++pos_;
      Unescape(&out);
    }
    Push(TokenType::kString, std::move(out), start);
  }

  // Python's unicode-escape rules for the escape at src_[pos_] (after the backslash).
  void Unescape(std::string* out) {
    char e = src_[pos_];
    auto hex = [&](size_t n) -> bool {
      if (pos_ + 1 + n > src_.size()) return false;
      uint32_t v = 0;
      for (size_t k = 1; k <= n; ++k) {
        char h = src_[pos_ + k];
        if (!std::isxdigit(static_cast<unsigned char>(h))) return false;
        v = v * 16 + static_cast<uint32_t>(IsDigit(h) ? h - '0' : (h | 0x20) - 'a' + 10);
      }
      if (v > 0x10FFFF) return false;
      AppendUtf8(out, static_cast<char32_t>(v));
      pos_ += 1 + n;
      return true;
    };
    switch (e) {
      case 'n': *out += '\n'; break;
      case 't': *out += '\t'; break;
      case 'r': *out += '\r'; break;
      case 'a': *out += '\a'; break;
      case 'b': *out += '\b'; break;
      case 'f': *out += '\f'; break;
      case 'v': *out += '\v'; break;
      case '\\': *out += '\\'; break;
      case '\'': *out += '\''; break;
      case '"': *out += '"'; break;
      case '\n': break;  // line continuation
      case 'x': if (hex(2)) return; Fail("truncated \\xXX escape", pos_); 
      case 'u': if (hex(4)) return; Fail("truncated \\uXXXX escape", pos_);
      case 'U': if (hex(8)) return; Fail("truncated \\UXXXXXXXX escape", pos_);
      default:
        if (e >= '0' && e <= '7') {
          uint32_t v = 0;
          size_t k = 0;
          while (k < 3 && pos_ < src_.size() && src_[pos_] >= '0' && src_[pos_] <= '7') {
            v = v * 8 + static_cast<uint32_t>(src_[pos_++] - '0');
            ++k;
          }
          AppendUtf8(out, static_cast<char32_t>(v));
          return;
        }
        *out += '\\';
        *out += e;
    }
    ++pos_;
  }

  void LexOperator(std::vector<char>* balance) {
    static const char* const kOps[] = {"//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]",
                                       "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"};
    for (const char* op : kOps) {
      if (!At(pos_, op)) continue;
      std::string s(op);
      if (s == "(" || s == "[" || s == "{") {
        balance->push_back(s == "(" ? ')' : s == "[" ? ']' : '}');
      } else if (s == ")" || s == "]" || s == "}") {
        if (balance->empty()) Fail("unexpected '" + s + "'", pos_);
        if (balance->back() != s[0]) Fail("unexpected '" + s + "', expected '" + std::string(1, balance->back()) + "'", pos_);
        balance->pop_back();
      }
      Push(TokenType::kOperator, s, pos_);
      pos_ += s.size();
      return;
    }
    size_t next = pos_;
    DecodeUtf8(src_, &next);
    Fail("unexpected char '" + src_.substr(pos_, next - pos_) + "'", pos_);
  }

  std::string src_;
  LexerOptions opt_;
  std::vector<size_t> line_starts_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  bool line_starting_ = true;
};

std::string NormalizeNewlines(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

std::vector<Token> Tokenize(std::string_view source, const LexerOptions& options) {
  return Lexer(NormalizeNewlines(source, options.keep_trailing_newline), options).Run();
}

}  // namespace ax::jinja
