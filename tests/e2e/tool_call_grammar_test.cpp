// The grammars of forced tool choices (server/tool_call_grammar.h), per call syntax:
// calls written as each family's template writes them are accepted and parse back, with
// the tool-call parser, into calls whose arguments validate against the tool's schema;
// a wrong name, bad arguments or a second call where one is allowed are refused; and on
// the Qwen3 vocabulary a valid call goes through the token matcher token by token,
// while random constrained walks end in calls that parse and validate.
#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "constrain/schema_validator.h"
#include "constrain/test_util.h"
#include "tool_call_grammar.h"
#include "tool_calls.h"

namespace ax::server {
namespace {

using json = nlohmann::json;
using constrain::GrammarPtr;

const json kTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
    "city": {"type": "string"}, "days": {"type": "integer", "minimum": 1, "maximum": 7},
    "unit": {"enum": ["celsius", "fahrenheit"]}}, "required": ["city", "days"]}}},
  {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}])");

const json kWalkTools = json::parse(R"([
  {"type": "function", "function": {"name": "set_alarm", "parameters": {"type": "object", "properties": {
    "hour": {"type": "integer", "minimum": 0, "maximum": 23}, "volume": {"type": "number", "minimum": 0, "maximum": 1},
    "label": {"enum": ["work", "gym"]}, "loud": {"type": "boolean"}}, "required": ["hour", "label"]}}},
  {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}}])");

ToolChoice Required() { return {ToolChoice::Kind::kRequired, ""}; }
ToolChoice Named(const std::string& name) { return {ToolChoice::Kind::kNamed, name}; }

struct Built {
  GrammarPtr grammar;
  ToolCallFormat format = ToolCallFormat::kNone;
};

Built Build(ToolCallFormat format, ToolChoice choice, bool parallel = false, std::string reasoning_close = "",
            const json& tools = kTools, const nlohmann::ordered_json* ordered = nullptr) {
  ForcedCallsSpec spec;
  spec.format = format;
  spec.choice = std::move(choice);
  spec.tools = &tools;
  spec.ordered_tools = ordered;
  spec.parallel = parallel;
  spec.reasoning_close = std::move(reasoning_close);
  const ForcedCalls fc = BuildForcedCalls(spec);
  EXPECT_EQ(fc.constraint.kind, OutputConstraint::Kind::kGrammar);
  std::vector<constrain::SchemaRule> rules;
  for (const auto& r : fc.constraint.schema_rules) rules.push_back({r.name, r.schema, r.pointer});
  auto g = constrain::CompileGbnf(fc.constraint.text, rules);
  EXPECT_TRUE(g.ok()) << g.status().ToString() << "\n" << fc.constraint.text;
  return {g.ok() ? g.value() : nullptr, fc.format};
}

// The calls the parser reads out of `text` (content must be empty).
std::vector<ToolCall> ReadBack(ToolCallFormat f, const std::string& text, const json& tools = kTools) {
  ToolCallParser p(f, tools);
  std::vector<ToolCallDelta> parts;
  std::string content;
  for (auto piece : {p.Feed(text), p.Finish()}) {
    content += piece.content;
    parts.insert(parts.end(), piece.calls.begin(), piece.calls.end());
  }
  EXPECT_EQ(content, "") << text;
  EXPECT_TRUE(p.warnings().empty()) << text << "\n" << (p.warnings().empty() ? "" : p.warnings()[0]);
  return JoinToolCalls(parts);
}

// Every call names a tool of `tools` and its arguments validate against its schema.
void ExpectValid(const std::vector<ToolCall>& calls, const json& tools = kTools) {
  ASSERT_FALSE(calls.empty());
  for (const ToolCall& c : calls) {
    const json args = json::parse(c.arguments, nullptr, /*allow_exceptions=*/false);
    bool found = false;
    for (const json& t : tools) {
      if (t["function"]["name"] != c.name) continue;
      found = true;
      const json& schema = t["function"]["parameters"];
      EXPECT_EQ(constrain::test::Validate(args, schema, schema), "") << c.name << " " << c.arguments;
    }
    EXPECT_TRUE(found) << c.name;
  }
}

struct FormatCase {
  ToolCallFormat format;
  std::string weather;           // a valid call of get_weather
  std::string time;              // a valid call of get_time
  std::string sep;               // between parallel calls
  std::vector<std::string> bad;  // invalid calls of get_weather (and wrong names)
};

std::vector<FormatCase> Cases() {
  return {
      {ToolCallFormat::kQwen3,
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2, \"unit\": "
       "\"celsius\"}}"
       "\n</tool_call>",
       "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>",
       "\n",
       {"<tool_call>\n{\"name\": \"get_wether\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 9}}\n</tool_call>",
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": \"2\"}}\n</tool_call>",
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"days\": 2}}\n</tool_call>",
        "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"days\": 2, \"city\": \"Paris\"}}\n</tool_call>",
        "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}",
        "Sure. <tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>"}},
      {ToolCallFormat::kQwen3Coder,
       "<tool_call>\n<function=get_weather>\n<parameter=city>\nNew York\n</parameter>\n<parameter=days>\n2\n"
       "</parameter>\n<parameter=unit>\nfahrenheit\n</parameter>\n</function>\n</tool_call>",
       "<tool_call>\n<function=get_time>\n</function>\n</tool_call>",
       "\n",
       {"<tool_call>\n<function=get_wether>\n</function>\n</tool_call>",
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\n<parameter=days>\ntwo\n"
        "</parameter>\n</function>\n</tool_call>",
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\n<parameter=days>\n2\n"
        "</parameter>\n<parameter=unit>\nkelvin\n</parameter>\n</function>\n</tool_call>",
        "<tool_call>\n<function=get_weather>\n<parameter=days>\n2\n</parameter>\n</function>\n</tool_call>",
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\n<parameter=days>\n2\n"
        "</parameter>\n<parameter=zip>\n1\n</parameter>\n</function>\n</tool_call>",
        "<tool_call>\n<function=get_weather>\n<parameter=city>\nO</tool_call>slo\n</parameter>\n<parameter=days>\n2\n"
        "</parameter>\n</function>\n</tool_call>"}},
      {ToolCallFormat::kGlm45,
       "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n<arg_key>days</arg_key>\n"
       "<arg_value>5</arg_value>\n</tool_call>",
       "<tool_call>get_time\n</tool_call>",
       "\n",
       {"<tool_call>get_wether\n</tool_call>",
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n<arg_key>days</arg_key>\n"
        "<arg_value>0</arg_value>\n</tool_call>",
        "<tool_call>get_weather\n<arg_key>days</arg_key>\n<arg_value>5</arg_value>\n</tool_call>",
        "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Bei</arg_value>jing</arg_value>\n"
        "<arg_key>days</arg_key>\n<arg_value>5</arg_value>\n</tool_call>"}},
      {ToolCallFormat::kGemma4,
       "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:2,unit:<|\"|>celsius<|\"|>}<tool_call|>",
       "<|tool_call>call:get_time{}<tool_call|>",
       "",
       {"<|tool_call>call:get_wether{}<tool_call|>",
        "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:9}<tool_call|>",
        "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:<|\"|>2<|\"|>}<tool_call|>",
        "<|tool_call>call:get_weather{city:Paris,days:2}<tool_call|>",
        "<|tool_call>call:get_weather{days:2,city:<|\"|>Paris<|\"|>}<tool_call|>",
        "<|tool_call>call:get_weather{days:2}<tool_call|>",
        "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:2,unit:<|\"|>kelvin<|\"|>}<tool_call|>",
        "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,,days:2}<tool_call|>"}},
      {ToolCallFormat::kLlama3Json,
       "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo; Norway\", \"days\": 7}}",
       "{\"name\": \"get_time\", \"parameters\": {}}",
       "; ",
       {"{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo\"}}",
        "{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\", \"days\": 7}}",
        "<|python_tag|>{\"name\": \"get_time\", \"parameters\": {}}"}},
  };
}

TEST(ForcedCallsGrammar, AcceptsTheFamilysCallsAndRefusesBadOnes) {
  for (const FormatCase& c : Cases()) {
    SCOPED_TRACE(ToolCallFormatName(c.format));
    const Built any = Build(c.format, Required());
    ASSERT_NE(any.grammar, nullptr);
    EXPECT_EQ(any.format, c.format);
    for (const std::string* call : {&c.weather, &c.time}) {
      EXPECT_TRUE(constrain::test::Matches(any.grammar, *call)) << *call;
      const auto calls = ReadBack(c.format, *call);
      ASSERT_EQ(calls.size(), 1u) << *call;
      ExpectValid(calls);
    }
    for (const std::string& bad : c.bad) EXPECT_FALSE(constrain::test::Matches(any.grammar, bad)) << bad;
    // One call only unless parallel calls are allowed.
    const std::string two = c.weather + c.sep + c.time;
    EXPECT_FALSE(constrain::test::Matches(any.grammar, two));
    const Built parallel = Build(c.format, Required(), /*parallel=*/true);
    EXPECT_TRUE(constrain::test::Matches(parallel.grammar, two));
    const auto calls = ReadBack(c.format, two);
    ASSERT_EQ(calls.size(), 2u);
    ExpectValid(calls);
    // Named: that tool only, even with parallel calls allowed.
    const Built named = Build(c.format, Named("get_time"), /*parallel=*/true);
    EXPECT_TRUE(constrain::test::Matches(named.grammar, c.time));
    EXPECT_FALSE(constrain::test::Matches(named.grammar, c.weather));
    EXPECT_FALSE(constrain::test::Matches(named.grammar, c.time + c.sep + c.time));
  }
}

TEST(ForcedCallsGrammar, FormatsWithoutASyntaxTakeTheJsonForm) {
  const Built b = Build(ToolCallFormat::kNone, Named("get_time"));
  EXPECT_EQ(b.format, ToolCallFormat::kLlama3Json);
  EXPECT_TRUE(constrain::test::Matches(b.grammar, "{\"name\": \"get_time\", \"parameters\": {}}"));
}

TEST(ForcedCallsGrammar, Gemma4NamesItsSpecialTokensAndTakesAnyValueForObjects) {
  ForcedCallsSpec spec;
  spec.format = ToolCallFormat::kGemma4;
  spec.choice = Named("f");
  const json tools = json::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
    "properties": {"opts": {"type": "object"}, "tags": {"type": "array"}}, "required": ["opts"]}}}])");
  spec.tools = &tools;
  const ForcedCalls fc = BuildForcedCalls(spec);
  EXPECT_EQ(fc.constraint.special_tokens, (std::vector<std::string>{"<|tool_call>", "<tool_call|>", "<|\"|>"}));
  const Built b = Build(ToolCallFormat::kGemma4, Named("f"), false, "", tools);
  const std::string call = "<|tool_call>call:f{opts:{a:1,b:[<|\"|>x<|\"|>,true]},tags:[]}<tool_call|>";
  EXPECT_TRUE(constrain::test::Matches(b.grammar, call));
  const auto calls = ReadBack(ToolCallFormat::kGemma4, call, tools);
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].arguments, R"({"opts":{"a":1,"b":["x",true]},"tags":[]})");
  EXPECT_FALSE(constrain::test::Matches(b.grammar, "<|tool_call>call:f{tags:[]}<tool_call|>"));
}

TEST(ForcedCallsGrammar, ReasoningTheTemplateOpenedIsClosedFirst) {
  const Built b = Build(ToolCallFormat::kQwen3, Named("get_time"), false, "</think>");
  const std::string call = "<tool_call>\n{\"name\": \"get_time\", \"arguments\": {}}\n</tool_call>";
  EXPECT_TRUE(constrain::test::Matches(b.grammar, "The user wants the time.\n</think>\n\n" + call));
  EXPECT_TRUE(constrain::test::Matches(b.grammar, "</think>" + call));
  EXPECT_FALSE(constrain::test::Matches(b.grammar, call));
  EXPECT_FALSE(constrain::test::Matches(b.grammar, "a</think>b</think>" + call));
}

// Untyped enums of one JSON type read back as that type (ParamType), so the XML
// syntaxes hold them to the enum's JSON values and the call validates.
TEST(ForcedCallsGrammar, UntypedEnumsTakeTheirValuesType) {
  const json tools = json::parse(R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
    "properties": {"n": {"enum": [1, 2]}, "x": {"enum": [0.5, 2]}, "s": {"enum": ["a", 1]}},
    "required": ["n", "x", "s"]}}}])");
  for (ToolCallFormat f : {ToolCallFormat::kQwen3Coder, ToolCallFormat::kGlm45}) {
    const Built b = Build(f, Required(), false, "", tools);
    const std::string ok =
        f == ToolCallFormat::kGlm45
            ? "<tool_call>f\n<arg_key>n</arg_key>\n<arg_value>2</arg_value>\n<arg_key>s</arg_key>\n"
              "<arg_value>a</arg_value>\n<arg_key>x</arg_key>\n<arg_value>0.5</arg_value>\n</tool_call>"
            : "<tool_call>\n<function=f>\n<parameter=n>\n2\n</parameter>\n<parameter=s>\na\n"
              "</parameter>\n<parameter=x>\n0.5\n</parameter>\n</function>\n</tool_call>";
    EXPECT_TRUE(constrain::test::Matches(b.grammar, ok)) << ok;
    const auto calls = ReadBack(f, ok, tools);
    ASSERT_EQ(calls.size(), 1u);
    EXPECT_EQ(calls[0].arguments, R"({"n":2,"s":"a","x":0.5})");  // sorted: `tools` is a nlohmann::json
    std::string three = ok;
    three.replace(three.find(">2<") != std::string::npos ? three.find(">2<") + 1 : three.find("\n2\n") + 1, 1, "3");
    EXPECT_FALSE(constrain::test::Matches(b.grammar, three)) << three;
  }
}

TEST(ForcedCallsGrammar, ParametersFollowTheRequestsOrder) {
  const char* text = R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object",
    "properties": {"zip": {"type": "integer"}, "city": {"type": "string"}}, "required": ["zip", "city"]}}}])";
  const auto ordered = nlohmann::ordered_json::parse(text);
  const json tools = json::parse(text);
  const Built json_form = Build(ToolCallFormat::kQwen3, Required(), false, "", tools, &ordered);
  EXPECT_TRUE(constrain::test::Matches(
      json_form.grammar, "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"zip\": 1, \"city\": \"a\"}}\n</tool_call>"));
  EXPECT_FALSE(constrain::test::Matches(
      json_form.grammar, "<tool_call>\n{\"name\": \"f\", \"arguments\": {\"city\": \"a\", \"zip\": 1}}\n</tool_call>"));
  const Built xml = Build(ToolCallFormat::kQwen3Coder, Required(), false, "", tools, &ordered);
  EXPECT_TRUE(constrain::test::Matches(xml.grammar,
                                       "<tool_call>\n<function=f>\n<parameter=zip>\n1\n</parameter>\n<parameter=city>\n"
                                       "a\n</parameter>\n</function>\n</tool_call>"));
}

TEST(GbnfPieces, TextWithoutRefusesExactlyTheForbiddenStrings) {
  const std::string gbnf = "root ::= t \"|\"\n" + GbnfTextWithout("t", {"</a>", "aab"});
  auto g = constrain::CompileGbnf(gbnf);
  ASSERT_TRUE(g.ok()) << g.status().ToString() << "\n" << gbnf;
  std::mt19937 rng(5);
  const std::string alphabet = "</a>bx\"\\";
  for (int i = 0; i < 3000; ++i) {
    std::string s;
    for (int n = static_cast<int>(rng() % 12); n > 0; --n) s += alphabet[rng() % alphabet.size()];
    const bool clean =
        s.find("</a>") == std::string::npos && s.find("aab") == std::string::npos && s.find('|') == std::string::npos;
    EXPECT_EQ(constrain::test::Matches(g.value(), s + "|"), clean) << s;
  }
  EXPECT_EQ(GbnfLiteral("a\"\\\n\t\x01é"), "\"a\\\"\\\\\\n\\t\\x01é\"");
}

// Token level, on the Qwen3 vocabulary: a valid call token by token, and random walks
// that end in calls that parse and validate.
TEST(ForcedCallsGrammar, TokenLevelOnTheQwen3Vocabulary) {
  const auto* st = constrain::test::LoadShared("qwen3");
  if (st == nullptr) GTEST_SKIP() << "no shared tokenizer qwen3";
  std::mt19937 rng(11);
  for (const FormatCase& c : Cases()) {
    SCOPED_TRACE(ToolCallFormatName(c.format));
    const Built b = Build(c.format, Required(), /*parallel=*/true);
    constrain::Matcher m(b.grammar, st->vocab, st->eos);
    constrain::TokenBitset mask(st->vocab->size());
    for (int32_t id : st->tok->Encode(c.weather, /*add_special_tokens=*/false)) {
      m.FillMask(&mask);
      ASSERT_TRUE(mask.Test(id)) << "token " << id << " '" << st->vocab->bytes(id) << "'";
      ASSERT_TRUE(m.Accept(id));
    }
    EXPECT_TRUE(m.IsComplete());
    m.FillMask(&mask);
    EXPECT_TRUE(st->eos < 0 || mask.Test(st->eos));
    // Random walks, on tools without free text (a raw-text value of the XML syntaxes
    // ends only at its closing tag, which random tokens seldom spell): mostly a token
    // that may close something, so JSON strings end.
    const Built walks = Build(c.format, Required(), /*parallel=*/true, "", kWalkTools);
    int completed = 0;
    for (int walk = 0; walk < 6; ++walk) {
      constrain::Matcher w(walks.grammar, st->vocab, st->eos);
      std::string out;
      for (int step = 0; step < 200 && !w.IsTerminated(); ++step) {
        w.FillMask(&mask);
        if (w.IsComplete() && rng() % 2 == 0) break;
        std::vector<int32_t> allowed, closing;
        for (int32_t t = 0; t < mask.size(); ++t) {
          if (!mask.Test(t) || t == st->eos) continue;
          allowed.push_back(t);
          const std::string& bytes = st->vocab->bytes(t);
          if (bytes.find_first_of("<\"}\n") != std::string::npos) closing.push_back(t);
        }
        ASSERT_FALSE(allowed.empty()) << "dead end after " << out;
        const auto& pool = !closing.empty() && rng() % 4 != 0 ? closing : allowed;
        const int32_t t = pool[rng() % pool.size()];
        ASSERT_TRUE(w.Accept(t));
        out += st->vocab->bytes(t);
      }
      if (!w.IsComplete()) continue;
      ++completed;
      ExpectValid(ReadBack(c.format, out, kWalkTools), kWalkTools);
    }
    EXPECT_GT(completed, 0);
  }
}

}  // namespace
}  // namespace ax::server
