// GBNF parsing and whole-string matching against std::regex (regular grammars)
// and hand-written recognisers (context-free ones).
#include <random>
#include <regex>

#include "constrain/test_util.h"

namespace ax::constrain::test {
namespace {

std::string RandomString(std::mt19937& rng, const std::string& alphabet, int max_len) {
  std::uniform_int_distribution<int> len(0, max_len);
  std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
  std::string s;
  for (int n = len(rng); n > 0; --n) s += alphabet[pick(rng)];
  return s;
}

struct RegularCase {
  const char* gbnf;
  const char* regex;
  const char* alphabet;
  const char* example = "";  // one string checked before the random ones
};

const RegularCase kRegular[] = {
    {R"(root ::= "ab" | "c")", "ab|c", "abc"},
    {R"(root ::= [a-c]+ "x"?)", "[a-c]+x?", "abcx"},
    {R"(root ::= ("ab")* "c")", "(ab)*c", "abc"},
    {R"(root ::= "a"{2,4} "b"{1,} "c"{0,2} "d"{3})", "a{2,4}b+c{0,2}d{3}", "abcd", "aaabccddd"},
    {R"(root ::= [^ab]* "a")", "[^ab]*a", "abcd"},
    {"root ::= x y\nx ::= \"0\" | [1-9] [0-9]*\ny ::= (\".\" [0-9]+)?", R"((0|[1-9][0-9]*)(\.[0-9]+)?)", "0129."},
    {"root ::= (\n  \"a\"\n  | \"b\" \"c\"  # comment\n)+", "(a|bc)+", "abc"},
    {R"(root ::= "\x41\u0042" [\n\t] "\\" "\"")", "AB[\\n\\t]\\\\\"", "AB\n\t\\\"", "AB\t\\\""},
    {R"(root ::= . "z")", "[^]z", "az\n"},
    {R"(root ::= ("a" | "b" "b"?){1,3})", "(a|bb?){1,3}", "ab"},
};

TEST(Gbnf, MatchesLikeStdRegex) {
  std::mt19937 rng(7);
  for (const RegularCase& c : kRegular) {
    GrammarPtr g = MustGbnf(c.gbnf);
    ASSERT_NE(g, nullptr);
    std::regex re(c.regex, std::regex::ECMAScript);
    int matched = 0;
    for (int n = 0; n < 600; ++n) {
      std::string s = n == 0 ? std::string(c.example) : RandomString(rng, c.alphabet, 8);
      bool want = std::regex_match(s, re);
      matched += want;
      ASSERT_EQ(Matches(g, s), want) << c.gbnf << " on '" << s << "'";
      if (want) {
        for (size_t k = 0; k <= s.size(); ++k) ASSERT_TRUE(IsPrefix(g, s.substr(0, k))) << s;
      }
    }
    EXPECT_GT(matched, 0) << c.gbnf;
  }
}

bool Balanced(const std::string& s) {
  int depth = 0;
  for (char c : s) {
    depth += c == '(' ? 1 : -1;
    if (depth < 0) return false;
  }
  return depth == 0 && !s.empty();
}

TEST(Gbnf, ContextFreeBalancedParens) {
  GrammarPtr g = MustGbnf("root ::= item+\nitem ::= \"(\" item* \")\"");
  ASSERT_NE(g, nullptr);
  std::mt19937 rng(3);
  int matched = 0;
  for (int n = 0; n < 3000; ++n) {
    std::string s = RandomString(rng, "()", 12);
    matched += Balanced(s);
    ASSERT_EQ(Matches(g, s), Balanced(s)) << s;
  }
  EXPECT_GT(matched, 10);
  std::string deep(200, '(');
  deep += std::string(200, ')');
  EXPECT_TRUE(Matches(g, deep));
}

TEST(Gbnf, Utf8Classes) {
  GrammarPtr g = MustGbnf(R"(root ::= [α-ω]+ [^a-z]? "é")");
  ASSERT_NE(g, nullptr);
  EXPECT_TRUE(Matches(g, "αβγé"));
  EXPECT_TRUE(Matches(g, "ω\xF0\x9F\x98\x80\xC3\xA9"));  // U+1F600 then é
  EXPECT_FALSE(Matches(g, "αaé"));
  EXPECT_FALSE(Matches(g, "é"));
  EXPECT_TRUE(IsPrefix(g, "α\xCE"));        // half of β
  EXPECT_FALSE(IsPrefix(g, "α\xCE\x20"));   // not a continuation byte
  EXPECT_FALSE(IsPrefix(g, "\xED\xA0\x80"));  // a surrogate is never valid UTF-8
  GrammarPtr any = MustGbnf(R"(root ::= [^"]*)");
  EXPECT_FALSE(IsPrefix(any, "\xC0\x80"));  // overlong
  EXPECT_FALSE(IsPrefix(any, "\xF4\x90"));  // above U+10FFFF
  EXPECT_TRUE(Matches(any, "\xF4\x8F\xBF\xBF"));
}

TEST(Gbnf, Errors) {
  struct Bad {
    const char* text;
    const char* message;
  };
  const Bad kBad[] = {
      {"rot ::= \"a\"", "no rule named 'root'"},
      {"root ::= x", "rule 'x' is used but not defined"},
      {"root ::= \"a", "gbnf:1:12: unterminated string literal"},
      {"root ::= [a-", "unterminated character class"},
      {"root ::= (\"a\"", "expected ')'"},
      {"root ::= \"a\"{3,1}", "n < m"},
      {"root ::= root \"a\" | \"b\"", "rule 'root' is left-recursive"},
      {"root ::= \"a\"\nroot ::= \"b\"", "defined twice"},
      {"root ::= \"\\q\"", "unknown escape"},
      {"root ::= \"a\"{99999}", "repetition count above"},
  };
  for (const Bad& b : kBad) {
    auto r = CompileGbnf(b.text);
    ASSERT_FALSE(r.ok()) << b.text;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find(b.message), std::string::npos) << r.status().ToString();
  }
}

TEST(Gbnf, CompletionAndTermination) {
  Matcher m(MustGbnf(R"(root ::= "a" "b"?)"), ByteVocab(), 256);
  EXPECT_FALSE(m.IsComplete());
  ASSERT_TRUE(m.Accept('a'));
  EXPECT_TRUE(m.IsComplete());
  EXPECT_FALSE(m.IsTerminated());
  ASSERT_TRUE(m.Accept('b'));
  EXPECT_TRUE(m.IsTerminated());
  EXPECT_FALSE(m.Accept('b'));
  ASSERT_TRUE(m.Accept(256));
  EXPECT_FALSE(m.Accept(256));
  m.Rollback(2);
  EXPECT_TRUE(m.IsComplete());
  EXPECT_FALSE(m.IsTerminated());
}

}  // namespace
}  // namespace ax::constrain::test
