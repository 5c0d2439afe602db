// llama.cpp-style GBNF:
//   rule-name ::= alternatives      # comment
//   elements: "literal"  [a-z0-9_]  [^"\\]  .  rule-name  ( group )
//   postfix:  *  +  ?  {m}  {m,}  {m,n}
//   escapes in literals and classes: \n \r \t \\ \" \] \[ \- \xHH \uHHHH \UHHHHHHHH
// Whitespace, newlines included, separates elements; a rule's body ends where the
// next `name ::=` starts.
#include <algorithm>
#include <cctype>

#include "constrain/expr.h"
#include "constrain/json_schema.h"

namespace ax::constrain {
namespace {

bool IsWordChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_'; }

class GbnfParser {
 public:
  explicit GbnfParser(std::string_view s) : s_(s) {}

  Result<GrammarPtr> Parse(const std::vector<SchemaRule>& schemas) {
    SkipSpace();
    while (i_ < s_.size()) {
      std::string name = Word();
      if (name.empty()) return Error("expected a rule name");
      SkipSpace();
      if (s_.substr(i_, 3) != "::=") return Error("expected '::=' after '" + name + "'");
      i_ += 3;
      int32_t r = b_.Rule(name);
      if (b_.IsDefined(r)) return Error("rule '" + name + "' is defined twice");
      AX_ASSIGN_OR_RETURN(Expr body, Alternatives());
      if (i_ < s_.size() && s_[i_] == ')') return Error("unbalanced ')'");
      b_.Define(r, std::move(body));
    }
    if (!HasRoot()) return InvalidArgument("gbnf: no rule named 'root'");
    // After the text's rules, so the schemas' helper rules take names the text left free.
    for (const SchemaRule& sr : schemas) AX_RETURN_IF_ERROR(DefineSchema(sr));
    return b_.Build(b_.Rule("root"), "gbnf");
  }

 private:
  Status DefineSchema(const SchemaRule& sr) {
    if (sr.name.empty() || !std::all_of(sr.name.begin(), sr.name.end(), IsWordChar))
      return InvalidArgument("gbnf: schema rule name '" + sr.name + "' is not a rule name ([a-zA-Z0-9_-]+)");
    const int32_t r = b_.Rule(sr.name);
    if (b_.IsDefined(r))
      return InvalidArgument("gbnf: rule '" + sr.name + "' is defined by the grammar and by a schema");
    const auto schema = nlohmann::ordered_json::parse(sr.schema, nullptr, /*allow_exceptions=*/false);
    if (schema.is_discarded()) return InvalidArgument(sr.name + ": the JSON schema is not valid JSON");
    SchemaCompiler c(schema, &b_, sr.name);
    AX_ASSIGN_OR_RETURN(Expr body, c.CompileAt(sr.pointer));
    b_.Define(r, std::move(body));
    return Status::Ok();
  }

  bool HasRoot() {
    int32_t r = b_.Rule("root");
    return b_.IsDefined(r);
  }

  Status Error(const std::string& what) const {
    int line = 1, col = 1;
    for (size_t k = 0; k < i_ && k < s_.size(); ++k) {
      if (s_[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return InvalidArgument("gbnf:" + std::to_string(line) + ":" + std::to_string(col) + ": " + what);
  }

  void SkipSpace() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n') ++i_;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++i_;
      } else {
        break;
      }
    }
  }

  std::string Word() {
    size_t b = i_;
    while (i_ < s_.size() && IsWordChar(s_[i_])) ++i_;
    return std::string(s_.substr(b, i_ - b));
  }

  // At a rule name followed by '::=' (the start of the next rule)?
  bool AtRuleStart() const {
    size_t k = i_;
    while (k < s_.size() && IsWordChar(s_[k])) ++k;
    if (k == i_) return false;
    while (k < s_.size() && (s_[k] == ' ' || s_[k] == '\t')) ++k;
    return s_.substr(k, 3) == "::=";
  }

  Result<Expr> Alternatives() {
    std::vector<Expr> alts;
    while (true) {
      AX_ASSIGN_OR_RETURN(Expr seq, Sequence());
      alts.push_back(std::move(seq));
      if (i_ < s_.size() && s_[i_] == '|') {
        ++i_;
        continue;
      }
      break;
    }
    return Expr::Alt(std::move(alts));
  }

  Result<Expr> Sequence() {
    std::vector<Expr> items;
    while (true) {
      SkipSpace();
      if (i_ >= s_.size() || s_[i_] == '|' || s_[i_] == ')' || AtRuleStart()) break;
      AX_ASSIGN_OR_RETURN(Expr item, Primary());
      AX_ASSIGN_OR_RETURN(item, Postfix(std::move(item)));
      items.push_back(std::move(item));
    }
    return Expr::Seq(std::move(items));
  }

  Result<Expr> Primary() {
    char c = s_[i_];
    if (c == '"') {
      ++i_;
      std::string lit;
      while (i_ < s_.size() && s_[i_] != '"') {
        AX_ASSIGN_OR_RETURN(char32_t cp, Char());
        AppendUtf8(cp, &lit);
      }
      if (i_ >= s_.size()) return Error("unterminated string literal");
      ++i_;
      return Expr::Lit(std::move(lit));
    }
    if (c == '[') return Class();
    if (c == '.') {
      ++i_;
      return Expr::Class({}, /*negate=*/true);
    }
    if (c == '(') {
      ++i_;
      AX_ASSIGN_OR_RETURN(Expr e, Alternatives());
      if (i_ >= s_.size() || s_[i_] != ')') return Error("expected ')'");
      ++i_;
      return e;
    }
    if (IsWordChar(c)) return Expr::Ref(b_.Rule(Word()));
    return Error(std::string("unexpected character '") + c + "'");
  }

  Result<Expr> Class() {
    ++i_;  // '['
    bool negate = i_ < s_.size() && s_[i_] == '^';
    if (negate) ++i_;
    std::vector<CpRange> ranges;
    while (i_ < s_.size() && s_[i_] != ']') {
      AX_ASSIGN_OR_RETURN(char32_t lo, Char());
      char32_t hi = lo;
      if (i_ + 1 < s_.size() && s_[i_] == '-' && s_[i_ + 1] != ']') {
        ++i_;
        AX_ASSIGN_OR_RETURN(hi, Char());
        if (hi < lo) return Error("character range out of order");
      }
      ranges.push_back({lo, hi});
    }
    if (i_ >= s_.size()) return Error("unterminated character class");
    ++i_;
    return Expr::Class(std::move(ranges), negate);
  }

  // One character of a literal or class, escapes decoded; input is UTF-8.
  Result<char32_t> Char() {
    unsigned char c = static_cast<unsigned char>(s_[i_]);
    if (c == '\\') {
      if (i_ + 1 >= s_.size()) return Error("dangling escape");
      char e = s_[i_ + 1];
      i_ += 2;
      switch (e) {
        case 'n': return U'\n';
        case 'r': return U'\r';
        case 't': return U'\t';
        case 'x': return Hex(2);
        case 'u': return Hex(4);
        case 'U': return Hex(8);
        case '\\': case '"': case '[': case ']': case '-': case '^': case '/': return static_cast<char32_t>(e);
        default: return Error(std::string("unknown escape '\\") + e + "'");
      }
    }
    if (c < 0x80) {
      ++i_;
      return c;
    }
    int n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
    if (n == 0 || i_ + n > s_.size()) return Error("invalid UTF-8");
    char32_t cp = c & (0x7F >> n);
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s_[i_ + k]) & 0x3F);
    i_ += n;
    return cp;
  }

  Result<char32_t> Hex(int n) {
    char32_t v = 0;
    for (int k = 0; k < n; ++k, ++i_) {
      if (i_ >= s_.size() || std::isxdigit(static_cast<unsigned char>(s_[i_])) == 0) {
        return Error("expected " + std::to_string(n) + " hex digits");
      }
      char h = s_[i_];
      v = v * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(h)) != 0 ? h - '0'
                                                                                        : (h | 0x20) - 'a' + 10);
    }
    if (v > 0x10FFFF) return Error("code point above U+10FFFF");
    return v;
  }

  Result<Expr> Postfix(Expr e) {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '*' || c == '+' || c == '?') {
        ++i_;
        e = c == '*' ? Expr::Star(std::move(e)) : c == '+' ? Expr::Plus(std::move(e)) : Expr::Opt(std::move(e));
      } else if (c == '{') {
        ++i_;
        AX_ASSIGN_OR_RETURN(int32_t lo, Int());
        int32_t hi = lo;
        if (i_ < s_.size() && s_[i_] == ',') {
          ++i_;
          hi = -1;
          if (i_ < s_.size() && s_[i_] != '}') {
            AX_ASSIGN_OR_RETURN(hi, Int());
          }
        }
        if (i_ >= s_.size() || s_[i_] != '}') return Error("expected '}'");
        ++i_;
        if (hi >= 0 && hi < lo) return Error("repetition {m,n} with n < m");
        e = Expr::Repeat(std::move(e), lo, hi);
      } else {
        break;
      }
    }
    return e;
  }

  Result<int32_t> Int() {
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
    size_t b = i_;
    int64_t v = 0;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) != 0) {
      v = v * 10 + (s_[i_++] - '0');
      if (v > kMaxRepeat) return Error("repetition count above " + std::to_string(kMaxRepeat));
    }
    if (i_ == b) return Error("expected a number");
    while (i_ < s_.size() && s_[i_] == ' ') ++i_;
    return static_cast<int32_t>(v);
  }

  std::string_view s_;
  size_t i_ = 0;
  GrammarBuilder b_;
};

}  // namespace

Result<GrammarPtr> CompileGbnf(std::string_view text, const std::vector<SchemaRule>& schemas) {
  return GbnfParser(text).Parse(schemas);
}

}  // namespace ax::constrain
