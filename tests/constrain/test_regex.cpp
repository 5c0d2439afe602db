// CompileRegex against std::regex (ECMAScript) where the subsets overlap, and
// CompileChoice.
#include <random>
#include <regex>

#include "constrain/test_util.h"

namespace ax::constrain::test {
namespace {

struct Case {
  const char* pattern;
  const char* alphabet;
};

const Case kCases[] = {
    {"a|b|cd", "abcd"},
    {"(ab|a)*b?", "ab"},
    {"[a-c]{2,3}x?", "abcx"},
    {"\\d+(\\.\\d{1,2})?", "12.a"},
    {"[^a]*a", "abc"},
    {"(?:x|yz)+$", "xyz"},
    {"^\\w+\\s\\W", "a_1 !"},
    {"a.c", "a\nbc"},
    {"[\\d\\-]+", "1-a"},
    {"a{2}b{0,}c{1,2}?", "abc"},
    {"(a|b)(c|d)\\1?", "abcd"},  // backreference: rejected below, not here
};

TEST(Regex, MatchesLikeStdRegex) {
  std::mt19937 rng(9);
  for (const Case& c : kCases) {
    if (std::string(c.pattern).find("\\1") != std::string::npos) continue;
    auto g = CompileRegex(c.pattern);
    ASSERT_TRUE(g.ok()) << c.pattern << ": " << g.status().ToString();
    std::regex re(c.pattern, std::regex::ECMAScript);
    std::string alpha = c.alphabet;
    int matched = 0;
    for (int n = 0; n < 800; ++n) {
      std::string s;
      for (int k = std::uniform_int_distribution<int>(0, 7)(rng); k > 0; --k) {
        s += alpha[std::uniform_int_distribution<size_t>(0, alpha.size() - 1)(rng)];
      }
      bool want = std::regex_match(s, re);
      matched += want;
      ASSERT_EQ(Matches(g.value(), s), want) << c.pattern << " on '" << s << "'";
    }
    EXPECT_GT(matched, 0) << c.pattern;
  }
}

TEST(Regex, UnicodeAndEscapes) {
  auto g = CompileRegex(R"(\u00e9[α-γ]+\u{1F600}\x41)");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_TRUE(Matches(g.value(), "éαβ\xF0\x9F\x98\x80" "A"));
  EXPECT_FALSE(Matches(g.value(), "éδ\xF0\x9F\x98\x80" "A"));
}

TEST(Regex, Errors) {
  for (const char* bad : {"(a", "a)", "a**", "(?=a)", "(?!a)", "(?<=a)b", "\\bword", "(a)\\1", "a^b", "a$b", "[z-a]",
                          "a{3,1}", "*a", "\\q"}) {
    auto r = CompileRegex(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().rfind("regex: at offset ", 0), 0u) << r.status().message();
  }
}

TEST(Choice, ExactlyOneOf) {
  auto g = CompileChoice({"yes", "no", "not sure", "yes!"});
  ASSERT_TRUE(g.ok());
  for (const char* s : {"yes", "no", "not sure", "yes!"}) EXPECT_TRUE(Matches(g.value(), s)) << s;
  for (const char* s : {"", "ye", "nope", "no ", "yes!!"}) EXPECT_FALSE(Matches(g.value(), s)) << s;
  EXPECT_FALSE(CompileChoice({}).ok());
  EXPECT_FALSE(CompileChoice({"a", ""}).ok());
}

}  // namespace
}  // namespace ax::constrain::test
