// Token masks on real vocabularies against a brute-force check (every token tried
// on the matcher), the uncached trie walk, and Rollback.
#include <map>
#include <random>

#include <nlohmann/json.hpp>

#include "constrain/test_util.h"

namespace ax::constrain::test {
namespace {

// JSON with the compact whitespace policy (single optional spaces).
constexpr const char* kJsonGbnf = R"(
root   ::= object
value  ::= object | array | string | number | "true" | "false" | "null"
object ::= "{" ( member ( "," " "? member )* )? "}"
member ::= string ":" " "? value
array  ::= "[" ( value ( "," " "? value )* )? "]"
string ::= "\"" ( [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F]{4} ) )* "\""
number ::= "-"? ( "0" | [1-9] [0-9]* ) ( "." [0-9]+ )? ( [eE] [-+]? [0-9]+ )?
)";

constexpr const char* kJsonText =
    R"({"name": "Zoë ünïcödé 日本語 🎉", "tags": ["a b", 12, -3.5e2, true, null], "nested": {"k": []}, "esc": "q\"\\\n\u00e9"})";

// The tokenizer's encoding of `text` when its token bytes spell it exactly, else
// (SentencePiece prepends a space) a greedy longest-match over the vocabulary.
std::vector<int32_t> TokenizeForGrammar(const SharedTok& st, const std::string& text) {
  std::vector<int32_t> ids = st.tok->Encode(text, /*add_special_tokens=*/false);
  std::string spelled;
  for (int32_t id : ids) spelled += st.vocab->bytes(id);
  if (spelled == text) return ids;
  std::map<std::string, int32_t> by_bytes;
  for (int32_t t = 0; t < st.vocab->size(); ++t) {
    if (!st.vocab->bytes(t).empty()) by_bytes.emplace(st.vocab->bytes(t), t);
  }
  ids.clear();
  for (size_t p = 0; p < text.size();) {
    size_t n = std::min<size_t>(text.size() - p, 32);
    for (; n > 0; --n) {
      auto it = by_bytes.find(text.substr(p, n));
      if (it != by_bytes.end()) {
        ids.push_back(it->second);
        break;
      }
    }
    if (n == 0) return {};
    p += n;
  }
  return ids;
}

// Steps through `text` token by token (as the tokenizer encodes it) and checks the
// mask at each of the first `check_steps` steps against brute force and the
// uncached walk; every token of the encoding must be allowed.
void CheckAlongText(const SharedTok& st, const GrammarPtr& g, const std::string& text, int check_steps,
                    int stride) {
  std::vector<int32_t> ids = TokenizeForGrammar(st, text);
  ASSERT_FALSE(ids.empty());
  Matcher m(g, st.vocab, st.eos);
  TokenBitset mask(st.vocab->size()), uncached(st.vocab->size());
  int checked = 0;
  for (size_t k = 0; k <= ids.size(); ++k) {
    m.FillMask(&mask);
    if (checked < check_steps && k % static_cast<size_t>(stride) == 0) {
      ++checked;
      TokenBitset brute(st.vocab->size());
      for (int32_t t = 0; t < st.vocab->size(); ++t) {
        if (m.Accept(t)) {
          brute.Set(t);
          m.Rollback(1);
        }
      }
      m.FillMaskUncached(&uncached);
      ASSERT_EQ(mask.words(), brute.words()) << "step " << k << " extra: " << Diff(mask, brute, *st.vocab)
                                             << " missing: " << Diff(brute, mask, *st.vocab);
      ASSERT_EQ(uncached.words(), brute.words()) << "step " << k;
    }
    if (k == ids.size()) break;
    ASSERT_TRUE(mask.Test(ids[k])) << "step " << k << " token '" << st.vocab->bytes(ids[k]) << "'";
    ASSERT_TRUE(m.Accept(ids[k]));
  }
  EXPECT_TRUE(m.IsComplete());
  if (st.eos >= 0) {
    EXPECT_TRUE(mask.Test(st.eos));
  }
}

class MaskTest : public ::testing::TestWithParam<const char*> {};

TEST_P(MaskTest, JsonGrammarMatchesBruteForce) {
  const SharedTok* st = LoadShared(GetParam());
  if (st == nullptr) {
    GTEST_SKIP() << "no shared tokenizer " << GetParam();
  }
  bool small = st->vocab->size() < 10000;
  CheckAlongText(*st, MustGbnf(kJsonGbnf), kJsonText, small ? 1000 : 6, small ? 1 : 7);
}

TEST_P(MaskTest, RegularGrammarMatchesBruteForce) {
  const SharedTok* st = LoadShared(GetParam());
  if (st == nullptr) {
    GTEST_SKIP() << "no shared tokenizer " << GetParam();
  }
  GrammarPtr g = MustGbnf(R"(root ::= "The answer is " [0-9]{1,3} ( " or " [a-z]+ )* ".")");
  CheckAlongText(*st, g, "The answer is 42 or maybe.", st->vocab->size() < 10000 ? 100 : 4, 2);
}

TEST_P(MaskTest, SpecialTokensNeverAllowed) {
  const SharedTok* st = LoadShared(GetParam());
  if (st == nullptr) {
    GTEST_SKIP() << "no shared tokenizer " << GetParam();
  }
  Matcher m(MustGbnf("root ::= [^x]*"), st->vocab, st->eos);
  TokenBitset mask(st->vocab->size());
  m.FillMask(&mask);
  for (int32_t t = 0; t < st->vocab->size(); ++t) {
    if (st->tok->IsSpecial(t) && t != st->eos) {
      ASSERT_FALSE(mask.Test(t)) << t;
    }
  }
  if (st->eos >= 0) {
    EXPECT_TRUE(mask.Test(st->eos));
  }
}

// Random walks comparing the cached mask with the uncached walk at every step
// (walks stop at eos a quarter of the time once complete).
void CheckRandomWalks(const SharedTok& st, const GrammarPtr& g, int walks, int steps, uint32_t seed) {
  std::mt19937 rng(seed);
  TokenBitset mask(st.vocab->size()), uncached(st.vocab->size());
  for (int w = 0; w < walks; ++w) {
    Matcher m(g, st.vocab, st.eos);
    for (int k = 0; k < steps; ++k) {
      m.FillMask(&mask);
      m.FillMaskUncached(&uncached);
      ASSERT_EQ(mask.words(), uncached.words()) << "walk " << w << " step " << k << " extra: "
                                                << Diff(mask, uncached, *st.vocab)
                                                << " missing: " << Diff(uncached, mask, *st.vocab);
      std::vector<int32_t> allowed;
      for (int32_t t = 0; t < mask.size(); ++t) {
        if (mask.Test(t) && t != st.eos) allowed.push_back(t);
      }
      if (allowed.empty() || (m.IsComplete() && rng() % 4 == 0)) break;
      ASSERT_TRUE(m.Accept(allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)]));
    }
  }
}

GrammarPtr MustSchema(const char* text) {
  auto r = CompileJsonSchema(nlohmann::json::parse(text));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r.value() : nullptr;
}

// Long bounded repetitions (chains whose levels share token-cache entries, see
// token_cache.h), walked to their bounds: a string of maxLength 300, a string
// whose minLength exceeds the longest token, bounded strings in an array of
// 20..50 items, and a regex {2,120}.
TEST_P(MaskTest, LongRepetitionsMatchBruteForce) {
  const SharedTok* st = LoadShared(GetParam());
  if (st == nullptr) {
    GTEST_SKIP() << "no shared tokenizer " << GetParam();
  }
  bool small = st->vocab->size() < 10000;
  const char* const units[] = {"a", "b", " ", "\u00e9", "\u65e5", "\\\"", "\\n", "x", "\u00fc", "q"};
  auto chars = [&](int n) {  // n JSON string characters (an escape counts as one)
    std::string out;
    for (int i = 0; i < n; ++i) out += units[i % 10];
    return out;
  };
  std::string items;
  for (int i = 0; i < 50; ++i) items += std::string(i > 0 ? ", \"" : "\"") + chars(i % 4) + "\"";
  struct Case {
    GrammarPtr g;
    std::string text;
  } cases[] = {
      {MustSchema(R"({"type": "object", "properties": {"s": {"type": "string", "maxLength": 300}}, "required": ["s"]})"),
       "{\"s\": \"" + chars(300) + "\"}"},
      {MustSchema(R"({"type": "string", "minLength": 150, "maxLength": 160})"), "\"" + chars(150) + "\""},
      {MustSchema(R"({"type": "object", "properties": {"a": {"type": "array", "items": {"type": "string", "maxLength": 3},
          "minItems": 20, "maxItems": 50}}, "required": ["a"]})"),
       "{\"a\": [" + items + "]}"},
      {CompileRegex("[a-z]{2,120}").value(), std::string(120, 'k').replace(7, 30, "thequickbrownfoxjumpsoverlazyd")},
  };
  uint32_t seed = 1;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    CheckAlongText(*st, c.g, c.text, small ? 1000 : 4, small ? 1 : 23);
    CheckRandomWalks(*st, c.g, small ? 20 : 1, small ? 120 : 60, seed++);
  }
}

INSTANTIATE_TEST_SUITE_P(Tokenizers, MaskTest, ::testing::Values("stories260K", "qwen3", "gemma3"));

// A small vocabulary of multi-byte tokens over the JSON alphabet.
std::shared_ptr<const TokenVocab> JsonishVocab() {
  std::mt19937 rng(11);
  const std::string alpha = "{}[]\":, a1-.e\\ntu";
  std::vector<std::string> b{""};  // id 0 = eos
  for (char c : alpha) b.emplace_back(1, c);
  for (const char* s : {"{\"", "\":", "\": ", "\", \"", "true", "null", "false", "[]", "{}", "\"}", "12", "e-1"}) b.emplace_back(s);
  std::uniform_int_distribution<size_t> pick(0, alpha.size() - 1);
  for (int i = 0; i < 200; ++i) {
    std::string s;
    for (int n = 2 + i % 4; n > 0; --n) s += alpha[pick(rng)];
    b.push_back(s);
  }
  return TokenVocab::FromBytes(std::move(b));
}

TEST(Rollback, RestoresExactly) {
  GrammarPtr g = MustGbnf(kJsonGbnf);
  auto v = JsonishVocab();
  std::mt19937 rng(5);
  for (int trial = 0; trial < 20; ++trial) {
    Matcher m(g, v, 0);
    std::vector<int32_t> accepted;
    TokenBitset mask(v->size()), want(v->size());
    for (int step = 0; step < 60; ++step) {
      m.FillMask(&mask);
      std::vector<int32_t> allowed;
      for (int32_t t = 1; t < v->size(); ++t) {
        if (mask.Test(t)) allowed.push_back(t);
      }
      if (allowed.empty()) break;
      int32_t t = allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)];
      ASSERT_TRUE(m.Accept(t));
      accepted.push_back(t);
      if (step % 7 == 6) {
        int n = std::uniform_int_distribution<int>(0, static_cast<int>(accepted.size()))(rng);
        m.Rollback(n);
        accepted.resize(accepted.size() - static_cast<size_t>(n));
        Matcher fresh(g, v, 0);
        for (int32_t a : accepted) ASSERT_TRUE(fresh.Accept(a));
        m.FillMask(&mask);
        fresh.FillMask(&want);
        ASSERT_EQ(mask.words(), want.words()) << "trial " << trial << " step " << step;
        ASSERT_EQ(m.IsComplete(), fresh.IsComplete());
        ASSERT_EQ(m.num_accepted(), static_cast<int>(accepted.size()));
      }
    }
  }
}

TEST(Rollback, RejectedAcceptLeavesStateUnchanged) {
  GrammarPtr g = MustGbnf(kJsonGbnf);
  auto v = JsonishVocab();
  Matcher m(g, v, 0);
  ASSERT_TRUE(m.AcceptBytes("{\"a\":"));
  TokenBitset before(v->size()), after(v->size());
  m.FillMask(&before);
  for (int32_t t = 0; t < v->size(); ++t) {
    if (!before.Test(t)) {
      ASSERT_FALSE(m.Accept(t)) << v->bytes(t);
    }
  }
  m.FillMask(&after);
  EXPECT_EQ(before.words(), after.words());
  EXPECT_EQ(m.num_accepted(), 1);
}

}  // namespace
}  // namespace ax::constrain::test
