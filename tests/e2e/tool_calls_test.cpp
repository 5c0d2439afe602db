// Tool-call parsing per family (server/tool_calls.h) on answers written the way each
// family's chat template teaches its model, malformed calls included; every answer is
// also fed at every split point and byte by byte, which must join to the same result,
// and the calls' parts must come as OpenAI streams them (a call's name first, then its
// arguments in pieces, before the call's closing tag).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <nlohmann/json.hpp>

#include "api_request.h"
#include "chat_output.h"
#include "tool_calls.h"

namespace ax::server {
namespace {

using json = nlohmann::json;

struct Result {
  std::string content;
  std::vector<ToolCall> calls;
  size_t warnings = 0;
};

Result RunChunks(ToolCallFormat f, const json& tools, const std::string& text, const std::vector<size_t>& cuts) {
  ToolCallParser p(f, tools);
  Result r;
  std::vector<ToolCallDelta> parts;
  size_t at = 0;
  auto add = [&](ToolCallParser::Piece piece) {
    r.content += piece.content;
    for (size_t i = 0; i < piece.calls.size(); ++i) {
      const ToolCallDelta& d = piece.calls[i];
      // A new call's first part names it; other parts go on the last call started.
      const size_t started = JoinToolCalls(parts).size();
      EXPECT_EQ(d.index + (d.name.empty() ? 1 : 0), started);
      if (i > 0) {
        EXPECT_GT(d.index, piece.calls[i - 1].index) << "one part per call in a piece";
      }
      parts.push_back(d);
    }
  };
  for (size_t cut : cuts) {
    add(p.Feed(text.substr(at, cut - at)));
    at = cut;
  }
  add(p.Feed(text.substr(at)));
  add(p.Finish());
  r.calls = JoinToolCalls(parts);
  r.warnings = p.warnings().size();
  return r;
}

// The whole text at once, then every two-piece split and a byte-by-byte feed: all equal.
Result Parse(ToolCallFormat f, const std::string& text, const json& tools = json::array()) {
  const Result whole = RunChunks(f, tools, text, {});
  auto same = [&](const Result& r, const std::string& how) {
    EXPECT_EQ(r.content, whole.content) << how;
    ASSERT_EQ(r.calls.size(), whole.calls.size()) << how;
    for (size_t i = 0; i < r.calls.size(); ++i) {
      EXPECT_EQ(r.calls[i].name, whole.calls[i].name) << how;
      EXPECT_EQ(r.calls[i].arguments, whole.calls[i].arguments) << how;
    }
  };
  for (size_t cut = 1; cut < text.size(); ++cut) same(RunChunks(f, tools, text, {cut}), "cut " + std::to_string(cut));
  std::vector<size_t> bytes;
  for (size_t i = 1; i < text.size(); ++i) bytes.push_back(i);
  same(RunChunks(f, tools, text, bytes), "byte by byte");
  return whole;
}

const json kWeatherTools = json::parse(R"([
  {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
    "city": {"type": "string"}, "days": {"type": "integer"}, "metric": {"type": "boolean"},
    "zip": {"type": "string"}, "hours": {"type": ["array", "null"]}}}}}])");

TEST(ToolCalls, Qwen3JsonCallsWithTextBeforeThem) {
  const Result r = Parse(ToolCallFormat::kQwen3,
                         "Let me check both.\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
                         "\"Paris\", \"days\": 2}}\n</tool_call>\n<tool_call>\n{\"name\": \"get_time\", \"arguments\": "
                         "{\"tz\": \"Europe/Paris\"}}\n</tool_call>");
  EXPECT_EQ(r.content, "Let me check both.");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments, R"({"city":"Paris","days":2})");  // the model's key order
  EXPECT_EQ(r.calls[1].name, "get_time");
  EXPECT_EQ(r.calls[1].arguments, R"({"tz":"Europe/Paris"})");
  EXPECT_EQ(r.warnings, 0u);
}

TEST(ToolCalls, CallsOnlyLeaveNoContentAndPlainTextIsUntouched) {
  Result r = Parse(ToolCallFormat::kQwen3,
                   "\n\n<tool_call>\n{\"name\": \"ping\", \"arguments\": \"{\\\"n\\\": 1}\"}\n</tool_call>\n");
  EXPECT_EQ(r.content, "");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"n":1})");  // arguments given as a JSON string
  const std::string text = "  A plain answer with a < sign, <tool and trailing space. \n";
  r = Parse(ToolCallFormat::kQwen3, text);
  EXPECT_EQ(r.content, text);
  EXPECT_TRUE(r.calls.empty());
  r = Parse(ToolCallFormat::kNone, "<tool_call>{\"name\": \"x\"}</tool_call>");
  EXPECT_EQ(r.content, "<tool_call>{\"name\": \"x\"}</tool_call>");
}

TEST(ToolCalls, MalformedCallsComeBackAsTextWithAWarning) {
  // Bodies that do not begin as a call (the name is not a string, no name, not JSON).
  for (const std::string body :
       {"{\"name\": get_weather, \"arguments\": {}}", "{\"arguments\": {}}", "get_weather(city=Paris)"}) {
    const std::string text = "Sure. <tool_call>\n" + body + "\n</tool_call> done";
    const Result r = Parse(ToolCallFormat::kQwen3, text);
    EXPECT_EQ(r.content, text);
    EXPECT_TRUE(r.calls.empty());
    EXPECT_EQ(r.warnings, 1u) << body;
  }
  // A length stop before the name is whole: the unfinished call is text.
  Result r = Parse(ToolCallFormat::kQwen3, "<tool_call>\n{\"name\": \"get_wea");
  EXPECT_EQ(r.content, "<tool_call>\n{\"name\": \"get_wea");
  // A call that is complete but not closed (the model stopped instead) is a call.
  r = Parse(ToolCallFormat::kQwen3, "<tool_call>\n{\"name\": \"a\", \"arguments\": {}}\n");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.content, "");
  // The arguments given first, or as a JSON string, cannot stream: parsed whole.
  r = Parse(ToolCallFormat::kQwen3, "<tool_call>{\"arguments\": {\"x\": 1}, \"name\": \"a\"}</tool_call>");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"x":1})");
}

// A call whose name was read has started (its parts are out): a break in its syntax
// later keeps it a call, with what was read and a warning.
TEST(ToolCalls, StartedCallsStayCalls) {
  Result r = Parse(ToolCallFormat::kQwen3,
                   "Sure. <tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": }\n</tool_call> done");
  EXPECT_EQ(r.content, "Sure. done");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"city":})");  // as the model wrote it
  EXPECT_EQ(r.warnings, 1u);
  // A length stop inside the arguments: the call as far as it went.
  r = Parse(ToolCallFormat::kQwen3, "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Par");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"city":"Par)");
  EXPECT_EQ(r.warnings, 1u);
  // Keys after the arguments and text after the object are ignored, with warnings.
  r = Parse(ToolCallFormat::kQwen3, "<tool_call>{\"name\": \"a\", \"arguments\": {\"x\": 1}, \"id\": 7} x</tool_call>");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"x":1})");
  EXPECT_EQ(r.warnings, 2u);
  // The XML-style syntaxes close the arguments where the syntax broke.
  r = Parse(ToolCallFormat::kGlm45, "<tool_call>get_weather\n<arg_key>city</arg_key>\n</tool_call>");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, "{}");
  EXPECT_EQ(r.warnings, 1u);
  r = Parse(ToolCallFormat::kQwen3Coder,
            "<tool_call>\n<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\nOops\n</tool_call>",
            kWeatherTools);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"city":"Oslo"})");
  EXPECT_EQ(r.warnings, 1u);
  // A length stop inside a string parameter: the value as far as it went.
  r = Parse(ToolCallFormat::kQwen3Coder, "<tool_call>\n<function=get_weather>\n<parameter=city>\nNew Yo",
            kWeatherTools);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"city":"New Yo"})");
}

// Joined parts of `text` fed byte by byte up to `prefix_end`: the calls started so far.
std::vector<ToolCall> CallsAfter(ToolCallFormat f, const std::string& text, size_t prefix_end,
                                 const json& tools = kWeatherTools) {
  ToolCallParser p(f, tools);
  std::vector<ToolCallDelta> parts;
  for (size_t i = 0; i < prefix_end; ++i)
    for (const ToolCallDelta& d : p.Feed(text.substr(i, 1)).calls) parts.push_back(d);
  return JoinToolCalls(parts);
}

// The name comes out once the body shows it, and the arguments before the call closes:
// a string value as its bytes come (less a tail that may be a closing tag).
TEST(ToolCalls, ArgumentsStreamBeforeTheCallCloses) {
  const struct {
    ToolCallFormat format;
    std::string text, upto;  // fed up to the end of `upto`
    std::string arguments;   // the arguments out by then
    std::string named;       // the call has started by the end of this
  } cases[] = {
      {ToolCallFormat::kQwen3,
       "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"days\": 2}}\n</tool_call>",
       "\"Par", R"({"city":"Par)", "\"arguments\": {"},
      {ToolCallFormat::kLlama3Json, "{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}", "\"Pa",
       R"({"city":"Pa)", "\"parameters\": {"},
      {ToolCallFormat::kQwen3Coder,
       "<tool_call>\n<function=get_weather>\n<parameter=days>\n2\n</parameter>\n<parameter=city>\nNew York\n"
       "</parameter>\n</function>\n</tool_call>",
       "New Yo", R"({"days":2,"city":"New Yo)", "get_weather>"},
      {ToolCallFormat::kQwen3Coder,  // the newline before </parameter> is held: it is layout
       "<tool_call>\n<function=get_weather>\n<parameter=city>\nOslo\n</parameter>\n</function>\n</tool_call>",
       "Oslo\n</para", R"({"city":"Oslo)", "get_weather>"},
      {ToolCallFormat::kGlm45,
       "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n</tool_call>", "Beij",
       R"({"city":"Beij)", "get_weather\n"},
      {ToolCallFormat::kGemma4, "<|tool_call>call:get_weather{days:2,city:<|\"|>Paris<|\"|>}<tool_call|>",
       "Paris<|\"", R"({"days":2,"city":"Paris)", "get_weather{"},
  };
  for (const auto& c : cases) {
    const size_t end = c.text.find(c.upto) + c.upto.size();
    const std::vector<ToolCall> calls = CallsAfter(c.format, c.text, end);
    ASSERT_EQ(calls.size(), 1u) << c.text;
    EXPECT_EQ(calls[0].name, "get_weather");
    EXPECT_EQ(calls[0].arguments, c.arguments) << c.text;
    // The name alone once the body shows it (JSON: once the arguments begin).
    const std::vector<ToolCall> named = CallsAfter(c.format, c.text, c.text.find(c.named) + c.named.size());
    ASSERT_EQ(named.size(), 1u) << c.text;
    EXPECT_LE(named[0].arguments.size(), 1u) << named[0].arguments;
  }
}

TEST(ToolCalls, Qwen3CoderParametersTakeTheSchemaTypes) {
  const Result r = Parse(ToolCallFormat::kQwen3Coder,
                         "<tool_call>\n<function=get_weather>\n<parameter=city>\nNew York\n</parameter>\n"
                         "<parameter=days>\n3\n</parameter>\n<parameter=metric>\nfalse\n</parameter>\n"
                         "<parameter=zip>\n10001\n</parameter>\n<parameter=hours>\n[9, 12]\n</parameter>\n"
                         "<parameter=note>\nline one\nline two\n</parameter>\n</function>\n</tool_call>",
                         kWeatherTools);
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments,
            R"({"city":"New York","days":3,"metric":false,"zip":"10001","hours":[9,12],"note":"line one\nline two"})");
  // An integer parameter the model wrote as words stays text rather than failing.
  const Result bad = Parse(ToolCallFormat::kQwen3Coder,
                           "<tool_call>\n<function=get_weather>\n<parameter=days>\nthree\n</parameter>\n</function>\n"
                           "</tool_call>",
                           kWeatherTools);
  ASSERT_EQ(bad.calls.size(), 1u);
  EXPECT_EQ(bad.calls[0].arguments, R"({"days":"three"})");
  const Result malformed = Parse(ToolCallFormat::kQwen3Coder, "<tool_call>\n{\"name\": \"x\"}\n</tool_call>");
  EXPECT_TRUE(malformed.calls.empty());
  EXPECT_EQ(malformed.warnings, 1u);
}

TEST(ToolCalls, Glm45ArgumentPairs) {
  const Result r = Parse(ToolCallFormat::kGlm45,
                         "I'll look it up.<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Beijing</arg_value>\n"
                         "<arg_key>days</arg_key>\n<arg_value>5</arg_value>\n<arg_key>zip</arg_key>\n"
                         "<arg_value>100000</arg_value>\n</tool_call><tool_call>list_cities\n</tool_call>",
                         kWeatherTools);
  EXPECT_EQ(r.content, "I'll look it up.");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].arguments, R"({"city":"Beijing","days":5,"zip":"100000"})");
  EXPECT_EQ(r.calls[1].name, "list_cities");
  EXPECT_EQ(r.calls[1].arguments, "{}");
  // Not a name: text.
  EXPECT_TRUE(Parse(ToolCallFormat::kGlm45, "<tool_call>{\"name\": \"x\"}</tool_call>").calls.empty());
}

TEST(ToolCalls, Gemma4CallSyntax) {
  const Result r = Parse(ToolCallFormat::kGemma4,
                         "<|tool_call>call:get_weather{city:<|\"|>São Paulo, {BR}<|\"|>,days:2,metric:true,"
                         "hours:[9,<|\"|>noon<|\"|>],opts:{units:null,scale:-1.5e2}}<tool_call|>"
                         "<|tool_call>call:get_time{}<tool_call|>");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].name, "get_weather");
  EXPECT_EQ(r.calls[0].arguments,
            R"({"city":"São Paulo, {BR}","days":2,"metric":true,"hours":[9,"noon"],"opts":{"units":null,"scale":-150.0}})");
  EXPECT_EQ(r.calls[1].arguments, "{}");
  EXPECT_EQ(r.content, "");
  // An unquoted string is kept as a string, with a warning; a body without call: is text.
  const Result bad = Parse(ToolCallFormat::kGemma4, "<|tool_call>call:f{city:Paris,n:1}<tool_call|>");
  ASSERT_EQ(bad.calls.size(), 1u);
  EXPECT_EQ(bad.calls[0].arguments, R"({"city":"Paris","n":1})");
  EXPECT_EQ(bad.warnings, 1u);
  const Result text = Parse(ToolCallFormat::kGemma4, "<|tool_call>f(city=Paris)<tool_call|>");
  EXPECT_TRUE(text.calls.empty());
  EXPECT_EQ(text.content, "<|tool_call>f(city=Paris)<tool_call|>");
}

TEST(ToolCalls, Llama3JsonIsTheWholeAnswer) {
  Result r = Parse(ToolCallFormat::kLlama3Json,
                   "<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Oslo; Norway\"}}; "
                   "{\"name\": \"get_time\", \"parameters\": {}}");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].arguments, R"({"city":"Oslo; Norway"})");
  EXPECT_EQ(r.content, "");
  r = Parse(ToolCallFormat::kLlama3Json, "  {\"name\": \"a\", \"parameters\": {\"x\": [1, {\"y\": \"}\"}]}}");
  ASSERT_EQ(r.calls.size(), 1u);
  EXPECT_EQ(r.calls[0].arguments, R"({"x":[1,{"y":"}"}]})");
  const std::string prose = "The weather in {city} depends on the season.";
  r = Parse(ToolCallFormat::kLlama3Json, prose);
  EXPECT_EQ(r.content, prose);
  // A JSON array of calls (the form a forced tool_choice constrains the answer to).
  r = Parse(ToolCallFormat::kLlama3Json,
            "[{\"name\": \"get_weather\", \"parameters\": {\"unit\": \"c\"}}, {\"name\": \"get_time\", "
            "\"parameters\": {}}]");
  ASSERT_EQ(r.calls.size(), 2u);
  EXPECT_EQ(r.calls[0].arguments, R"({"unit":"c"})");
  EXPECT_EQ(r.calls[1].name, "get_time");
  EXPECT_EQ(r.content, "");
  EXPECT_EQ(r.warnings, 0u);
  r = Parse(ToolCallFormat::kLlama3Json, "{\"answer\": 42}");  // JSON that is not a call
  EXPECT_EQ(r.content, "{\"answer\": 42}");
  EXPECT_EQ(r.warnings, 1u);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

TEST(ToolCalls, DetectedFromTheTemplates) {
  const json qwen3 = json::parse(ReadFile(std::string(AX_SHARED_DIR) + "/tokenizers/qwen3/tokenizer_config.json"));
  EXPECT_EQ(DetectToolCallFormat(qwen3["chat_template"].get<std::string>()), ToolCallFormat::kQwen3);
  const json gemma3 = json::parse(ReadFile(std::string(AX_SHARED_DIR) + "/tokenizers/gemma3/tokenizer_config.json"));
  EXPECT_EQ(DetectToolCallFormat(gemma3["chat_template"].get<std::string>()), ToolCallFormat::kNone);
  EXPECT_EQ(DetectToolCallFormat("{{ '<tool_call>\\n<function=' ~ name ~ '>\\n<parameter=' }}"),
            ToolCallFormat::kQwen3Coder);
  EXPECT_EQ(DetectToolCallFormat("<tool_call>{{ tc.name }}<arg_key>"), ToolCallFormat::kGlm45);
  EXPECT_EQ(DetectToolCallFormat("{{ '<|tool_call>call:' }}"), ToolCallFormat::kGemma4);
  EXPECT_EQ(DetectToolCallFormat("<|start_header_id|>ipython ... {\"name\": function name, \"parameters\": ...}"),
            ToolCallFormat::kLlama3Json);
  for (const char* name : {"none", "qwen3", "qwen3-coder", "glm45", "gemma4", "llama3-json"}) {
    ToolCallFormat f;
    ASSERT_TRUE(ParseToolCallFormat(name, &f)) << name;
    EXPECT_STREQ(ToolCallFormatName(f), name);
  }
  ToolCallFormat f;
  EXPECT_FALSE(ParseToolCallFormat("hermes2", &f));
}

// `text` through a ChatOutputParser in chunks of `chunk` bytes, joined.
ChatOutputParser::Piece ParseInChunks(const ApiRequest& req, const std::string& text, size_t chunk) {
  ChatOutputParser p(req);
  ChatOutputParser::Piece all;
  auto add = [&all](ChatOutputParser::Piece piece) {
    all.reasoning += piece.reasoning;
    all.content += piece.content;
    all.calls.insert(all.calls.end(), piece.calls.begin(), piece.calls.end());
  };
  for (size_t i = 0; i < text.size(); i += chunk) add(p.Feed(text.substr(i, chunk)));
  add(p.Finish());
  EXPECT_EQ(p.calls_so_far(), static_cast<int>(JoinToolCalls(all.calls).size()));
  return all;
}

// Reasoning first, then calls in what is content: Qwen3 thinking then calling, and
// Gemma 4's thought channel then its call syntax (special tokens kept in the text).
TEST(ChatOutput, ReasoningThenToolCalls) {
  ApiRequest qwen, gemma;
  qwen.split_reasoning = gemma.split_reasoning = true;
  qwen.tool_format = ToolCallFormat::kQwen3;
  gemma.reasoning_format = ReasoningFormat::kGemma4;
  gemma.tool_format = ToolCallFormat::kGemma4;
  const struct {
    const ApiRequest& req;
    std::string text, reasoning;
  } cases[] = {
      {qwen,
       "<think>\nThe user wants weather.\n</think>\n\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": "
       "{\"city\": \"Paris\"}}\n</tool_call>",
       "\nThe user wants weather.\n"},
      {gemma,
       "<|channel>thought\nNeed the weather.<channel|><|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>}"
       "<tool_call|>",
       "\nNeed the weather."},
  };
  for (const auto& c : cases)
    for (size_t chunk : {size_t{1}, size_t{5}, c.text.size()}) {
      const ChatOutputParser::Piece got = ParseInChunks(c.req, c.text, chunk);
      EXPECT_EQ(got.reasoning, c.reasoning) << c.text << " chunk " << chunk;
      EXPECT_EQ(got.content, "");
      const std::vector<ToolCall> calls = JoinToolCalls(got.calls);
      ASSERT_EQ(calls.size(), 1u);
      EXPECT_EQ(calls[0].arguments, R"({"city":"Paris"})");
    }
  EXPECT_TRUE(PromptOpensThinking("<|turn>model\n<|channel>thought\n", ReasoningFormat::kGemma4));
  EXPECT_FALSE(PromptOpensThinking("<|turn>model\n<|channel>thought\n", ReasoningFormat::kThink));

  EXPECT_EQ(ToolCallId("chatcmpl-1", 0, 0), ToolCallId("chatcmpl-1", 0, 0));
  EXPECT_NE(ToolCallId("chatcmpl-1", 0, 0), ToolCallId("chatcmpl-1", 0, 1));
  EXPECT_NE(ToolCallId("chatcmpl-1", 0, 0), ToolCallId("chatcmpl-2", 0, 0));
  EXPECT_EQ(ToolCallId("chatcmpl-1", 1, 2).size(), 29u);
}

}  // namespace
}  // namespace ax::server
