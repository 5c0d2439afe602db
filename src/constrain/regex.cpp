#include "constrain/regex.h"

#include <cctype>
#include <cstdio>

namespace ax::constrain {
namespace {

const std::vector<CpRange> kDigit = {{'0', '9'}};
const std::vector<CpRange> kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};
const std::vector<CpRange> kSpace = {{'\t', '\r'}, {' ', ' '},       {0xA0, 0xA0},     {0x1680, 0x1680},
                                     {0x2000, 0x200A}, {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F},
                                     {0x3000, 0x3000}, {0xFEFF, 0xFEFF}};
const std::vector<CpRange> kNotNewline = {{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}};

bool JsonExcluded(char32_t c) { return c < 0x20 || c == '"' || c == '\\'; }

std::string JsonEscape(char32_t c) {
  switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    case '\b': return "\\b";
    case '\f': return "\\f";
    default: break;
  }
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(c));
  return buf;
}

class RegexParser {
 public:
  RegexParser(std::string_view s, const RegexOptions& opt, std::string where)
      : s_(s), opt_(opt), where_(std::move(where)) {}

  Result<Expr> Parse() {
    std::vector<Expr> alts;
    while (true) {
      bool at_start = Eat('^');
      AX_ASSIGN_OR_RETURN(Expr seq, Sequence(/*top=*/true));
      bool at_end = Eat('$');
      if (opt_.search) {
        Expr any = Expr::Star(AnyChar(/*dot=*/false));
        std::vector<Expr> parts;
        if (!at_start) parts.push_back(any);
        parts.push_back(std::move(seq));
        if (!at_end) parts.push_back(any);
        seq = Expr::Seq(std::move(parts));
      }
      alts.push_back(std::move(seq));
      if (i_ >= s_.size()) break;
      if (s_[i_] == '|') {
        ++i_;
        continue;
      }
      if (s_[i_] == ')') return Error("unbalanced ')'");
      return Error("'$' is supported only at the end of the pattern");
    }
    return Expr::Alt(std::move(alts));
  }

 private:
  Status Error(const std::string& what) const {
    return InvalidArgument(where_ + ": at offset " + std::to_string(i_) + ": " + what);
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
    return false;
  }

  Result<Expr> Alternation() {
    std::vector<Expr> alts;
    while (true) {
      AX_ASSIGN_OR_RETURN(Expr seq, Sequence(/*top=*/false));
      alts.push_back(std::move(seq));
      if (!Eat('|')) break;
    }
    return Expr::Alt(std::move(alts));
  }

  Result<Expr> Sequence(bool top) {
    std::vector<Expr> items;
    while (i_ < s_.size() && s_[i_] != '|' && s_[i_] != ')') {
      if (s_[i_] == '$') {
        if (top && (i_ + 1 == s_.size() || s_[i_ + 1] == '|')) break;
        return Error("'$' is supported only at the end of the pattern");
      }
      if (s_[i_] == '^') return Error("'^' is supported only at the start of the pattern");
      AX_ASSIGN_OR_RETURN(Expr atom, Atom());
      AX_ASSIGN_OR_RETURN(atom, Quantifiers(std::move(atom)));
      items.push_back(std::move(atom));
    }
    return Expr::Seq(std::move(items));
  }

  Result<Expr> Quantifiers(Expr e) {
    while (i_ < s_.size()) {
      char c = s_[i_];
      int32_t lo, hi;
      if (c == '*' || c == '+' || c == '?') {
        ++i_;
        lo = c == '+' ? 1 : 0;
        hi = c == '?' ? 1 : -1;
      } else if (c == '{' && Braces(&lo, &hi)) {
        if (hi >= 0 && hi < lo) return Error("repetition {m,n} with n < m");
        if (lo > kMaxRepeat || hi > kMaxRepeat) return Error("repetition count above " + std::to_string(kMaxRepeat));
      } else {
        break;
      }
      Eat('?');  // lazy
      if (i_ < s_.size() && (s_[i_] == '*' || s_[i_] == '+')) return Error("nested quantifier");
      e = Expr::Repeat(std::move(e), lo, hi);
    }
    return e;
  }

  // {n} {n,} {n,m}; false (nothing consumed) if the text is not one.
  bool Braces(int32_t* lo, int32_t* hi) {
    size_t k = i_ + 1;
    auto num = [&](int32_t* v) {
      size_t b = k;
      int64_t x = 0;
      while (k < s_.size() && std::isdigit(static_cast<unsigned char>(s_[k])) != 0) {
        x = std::min<int64_t>(x * 10 + (s_[k++] - '0'), int64_t{1} << 30);
      }
      *v = static_cast<int32_t>(x);
      return k > b;
    };
    if (!num(lo)) return false;
    *hi = *lo;
    if (k < s_.size() && s_[k] == ',') {
      ++k;
      if (!num(hi)) *hi = -1;
    }
    if (k >= s_.size() || s_[k] != '}') return false;
    i_ = k + 1;
    return true;
  }

  Expr Chars(std::vector<CpRange> ranges, bool negate) const {
    std::vector<CpRange> r = NormalizeRanges(std::move(ranges), negate);
    if (!opt_.json_string) return Expr::Class(std::move(r));
    std::vector<CpRange> plain;
    std::vector<Expr> alts;
    for (const CpRange& x : r) {
      for (char32_t c = x.lo; c <= x.hi && c < 0x80; ++c) {
        if (JsonExcluded(c)) alts.push_back(Expr::Lit(JsonEscape(c)));
      }
      plain.push_back(x);
    }
    std::vector<CpRange> excluded = {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}};
    std::vector<CpRange> allowed;  // plain minus excluded
    for (CpRange x : plain) {
      for (const CpRange& e : excluded) {
        if (x.lo > x.hi || e.hi < x.lo || e.lo > x.hi) continue;
        if (e.lo > x.lo) allowed.push_back({x.lo, e.lo - 1});
        x.lo = e.hi + 1;
      }
      if (x.lo <= x.hi) allowed.push_back(x);
    }
    alts.insert(alts.begin(), Expr::Class(std::move(allowed)));
    return Expr::Alt(std::move(alts));
  }

  Expr AnyChar(bool dot) const { return Chars(dot ? kNotNewline : std::vector<CpRange>{}, /*negate=*/true); }

  Expr Literal(char32_t c) const {
    std::string s;
    if (opt_.json_string && JsonExcluded(c)) {
      s = JsonEscape(c);
    } else {
      AppendUtf8(c, &s);
    }
    return Expr::Lit(std::move(s));
  }

  Result<Expr> Atom() {
    char c = s_[i_];
    if (c == '(') {
      ++i_;
      if (Eat('?')) {
        if (Eat(':')) {
        } else if (i_ + 1 < s_.size() && s_[i_] == '<' && s_[i_ + 1] != '=' && s_[i_ + 1] != '!') {
          while (i_ < s_.size() && s_[i_] != '>') ++i_;
          if (!Eat('>')) return Error("unterminated group name");
        } else {
          return Error("lookaround and inline flags are unsupported");
        }
      }
      AX_ASSIGN_OR_RETURN(Expr e, Alternation());
      if (!Eat(')')) return Error("expected ')'");
      return e;
    }
    if (c == '[') return Class();
    if (c == '.') {
      ++i_;
      return AnyChar(/*dot=*/true);
    }
    if (c == '*' || c == '+' || c == '?') return Error("quantifier without an operand");
    if (c == '\\') {
      std::vector<CpRange> ranges;
      bool negate = false;
      AX_ASSIGN_OR_RETURN(char32_t cp, Escape(&ranges, &negate));
      if (!ranges.empty()) return Chars(std::move(ranges), negate);
      return Literal(cp);
    }
    AX_ASSIGN_OR_RETURN(char32_t cp, Utf8Char());
    return Literal(cp);
  }

  Result<Expr> Class() {
    ++i_;  // '['
    bool negate = Eat('^');
    std::vector<CpRange> ranges;
    while (i_ < s_.size() && s_[i_] != ']') {
      AX_ASSIGN_OR_RETURN(char32_t lo, ClassAtom(&ranges));
      if (lo == kSetMarker) continue;
      char32_t hi = lo;
      if (i_ + 1 < s_.size() && s_[i_] == '-' && s_[i_ + 1] != ']') {
        ++i_;
        AX_ASSIGN_OR_RETURN(hi, ClassAtom(&ranges));
        if (hi == kSetMarker) return Error("a class escape cannot end a range");
        if (hi < lo) return Error("character range out of order");
      }
      ranges.push_back({lo, hi});
    }
    if (!Eat(']')) return Error("unterminated character class");
    return Chars(std::move(ranges), negate);
  }

  static constexpr char32_t kSetMarker = 0xFFFFFFFF;

  // A class member: a char, or (returning kSetMarker) a set escape added to `ranges`.
  Result<char32_t> ClassAtom(std::vector<CpRange>* ranges) {
    if (s_[i_] != '\\') return Utf8Char();
    std::vector<CpRange> set;
    bool negate = false;
    if (i_ + 1 < s_.size() && s_[i_ + 1] == 'b') {
      i_ += 2;
      return U'\b';
    }
    AX_ASSIGN_OR_RETURN(char32_t cp, Escape(&set, &negate));
    if (set.empty()) return cp;
    std::vector<CpRange> add = NormalizeRanges(std::move(set), negate);
    ranges->insert(ranges->end(), add.begin(), add.end());
    return kSetMarker;
  }

  // After '\': a char, or a set (\d \w \s and negations) returned in `set`.
  Result<char32_t> Escape(std::vector<CpRange>* set, bool* negate) {
    if (i_ + 1 >= s_.size()) return Error("dangling escape");
    char e = s_[i_ + 1];
    i_ += 2;
    switch (e) {
      case 'd': case 'D': *set = kDigit; *negate = e == 'D'; return 0;
      case 'w': case 'W': *set = kWord; *negate = e == 'W'; return 0;
      case 's': case 'S': *set = kSpace; *negate = e == 'S'; return 0;
      case 'n': return U'\n';
      case 'r': return U'\r';
      case 't': return U'\t';
      case 'f': return U'\f';
      case 'v': return U'\v';
      case '0': return 0;
      case 'x': return Hex(2);
      case 'u':
        if (Eat('{')) {
          AX_ASSIGN_OR_RETURN(char32_t v, HexUntilBrace());
          return v;
        }
        return Hex(4);
      case 'b': case 'B': return Error("word boundaries (\\b, \\B) are unsupported");
      default: break;
    }
    if (std::isdigit(static_cast<unsigned char>(e)) != 0) return Error("backreferences are unsupported");
    if (std::isalnum(static_cast<unsigned char>(e)) != 0) return Error(std::string("unknown escape '\\") + e + "'");
    --i_;
    return Utf8Char();
  }

  Result<char32_t> Hex(int n) {
    char32_t v = 0;
    for (int k = 0; k < n; ++k, ++i_) {
      if (i_ >= s_.size() || std::isxdigit(static_cast<unsigned char>(s_[i_])) == 0) return Error("bad hex escape");
      char h = s_[i_];
      v = v * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(h)) != 0 ? h - '0' : (h | 0x20) - 'a' + 10);
    }
    return v;
  }

  Result<char32_t> HexUntilBrace() {
    char32_t v = 0;
    int n = 0;
    while (i_ < s_.size() && s_[i_] != '}' && n < 7) {
      AX_ASSIGN_OR_RETURN(char32_t d, Hex(1));
      v = v * 16 + d;
      ++n;
    }
    if (!Eat('}') || n == 0 || v > 0x10FFFF) return Error("bad \\u{...} escape");
    return v;
  }

  Result<char32_t> Utf8Char() {
    unsigned char c = static_cast<unsigned char>(s_[i_]);
    int n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || i_ + n > s_.size()) return Error("invalid UTF-8");
    char32_t cp = n == 1 ? c : c & (0x7F >> n);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s_[i_ + k]) & 0x3F);
    i_ += n;
    return cp;
  }

  std::string_view s_;
  size_t i_ = 0;
  RegexOptions opt_;
  std::string where_;
};

}  // namespace

Result<Expr> ParseRegex(std::string_view pattern, const RegexOptions& opt, const std::string& where) {
  return RegexParser(pattern, opt, where).Parse();
}

Expr JsonStringChar() {
  Expr plain = Expr::Class({{0, 0x1F}, {'"', '"'}, {'\\', '\\'}}, /*negate=*/true);
  Expr hex = Expr::Class({{'0', '9'}, {'A', 'F'}, {'a', 'f'}});
  Expr esc = Expr::Seq({Expr::Lit("\\"), Expr::Alt({Expr::Class({{'"', '"'}, {'\\', '\\'}, {'/', '/'}, {'b', 'b'},
                                                                 {'f', 'f'}, {'n', 'n'}, {'r', 'r'}, {'t', 't'}}),
                                                   Expr::Seq({Expr::Lit("u"), Expr::Repeat(hex, 4, 4)})})});
  return Expr::Alt({std::move(plain), std::move(esc)});
}

Result<GrammarPtr> CompileRegex(std::string_view pattern) {
  AX_ASSIGN_OR_RETURN(Expr e, ParseRegex(pattern, RegexOptions{}, "regex"));
  GrammarBuilder b;
  int32_t root = b.Rule("root");
  b.Define(root, std::move(e));
  return b.Build(root, "regex");
}

Result<GrammarPtr> CompileChoice(const std::vector<std::string>& choices) {
  if (choices.empty()) return InvalidArgument("choice: the list of choices is empty");
  std::vector<Expr> alts;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i].empty()) return InvalidArgument("choice[" + std::to_string(i) + "]: empty choice");
    alts.push_back(Expr::Lit(choices[i]));
  }
  GrammarBuilder b;
  int32_t root = b.Rule("root");
  b.Define(root, Expr::Alt(std::move(alts)));
  return b.Build(root, "choice");
}

}  // namespace ax::constrain
