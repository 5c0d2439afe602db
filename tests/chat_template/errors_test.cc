// Errors and robustness: syntax errors name line and column, unknown filters/tests
// are named, raise_exception's message comes back verbatim, bad contexts and bad
// templates fail cleanly, limits hold, and a fuzz pass never crashes. Also the
// LoadFromDir contract (tokenizer_config.json shapes, chat_template.jinja override).
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "tokenizer/chat_template.h"
#include "tokenizer/jinja/template.h"

namespace ax {
namespace {

Status ParseError(const std::string& source) {
  auto t = ChatTemplate::FromSource(source, "<s>", "</s>");
  return t.ok() ? Status::Ok() : t.status();
}

Result<std::string> RenderOnce(const std::string& source, const std::string& context = "{}") {
  auto t = ChatTemplate::FromSource(source, "<s>", "</s>");
  if (!t.ok()) return t.status();
  return (*t)->Render(context);
}

std::string MessageOf(const Result<std::string>& r) { return r.ok() ? "ok: " + *r : r.status().message(); }

TEST(ChatTemplateErrors, SyntaxErrorsNameLineAndColumn) {
  Status s = ParseError("line one\n{% if x %}\n  {{ x + }}\n{% endif %}");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("line 3, column"), std::string::npos) << s.message();
}

TEST(ChatTemplateErrors, UnterminatedTags) {
  const char* cases[] = {"{% if x %}never closed", "{{ x ", "{% for m in messages %}x", "{# comment",
                         "{% raw %}x", "{{ 'unterminated }}", "{% if %}{% endif %}", "{% set %}",
                         "{% macro m( %}{% endmacro %}", "{% endif %}", "{{ }}", "{{ (1 }}", "{{ [1, 2 }}",
                         "{% for x in [] %}{% endif %}", "{% if x %}{% else %}{% else %}{% endif %}"};
  for (const char* src : cases) {
    Status s = ParseError(src);
    EXPECT_FALSE(s.ok()) << src;
    EXPECT_NE(s.message().find("line "), std::string::npos) << src << " -> " << s.message();
  }
  EXPECT_NE(ParseError("{% for x in y %}").message().find("endfor"), std::string::npos);
}

TEST(ChatTemplateErrors, UnknownFilterAndTestAreNamed) {
  Status f = ParseError("\n  {{ messages | frobnicate }}");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.message().find("frobnicate"), std::string::npos) << f.message();
  EXPECT_NE(f.message().find("line 2"), std::string::npos) << f.message();
  Status t = ParseError("{% if x is shiny %}{% endif %}");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find("shiny"), std::string::npos) << t.message();
  Status tag = ParseError("{% include 'other.jinja' %}");
  ASSERT_FALSE(tag.ok());
  EXPECT_NE(tag.message().find("include"), std::string::npos) << tag.message();
}

TEST(ChatTemplateErrors, RaiseExceptionMessageIsVerbatim) {
  auto r = RenderOnce("{% if messages | length > 1 %}{{ raise_exception('Only one message, please!') }}{% endif %}",
                      R"({"messages": [1, 2]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "Only one message, please!");
}

TEST(ChatTemplateErrors, RuntimeErrorsSayWhere) {
  auto r = RenderOnce("ok\n{{ 'a' + 1 }}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("concatenate"), std::string::npos) << r.status().message();
  auto u = RenderOnce("{{ nope.attr }}");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("'nope' is undefined"), std::string::npos) << u.status().message();
}

TEST(ChatTemplateErrors, BadContexts) {
  auto t = ChatTemplate::FromSource("{{ messages[0].content }}", "", "");
  ASSERT_TRUE(t.ok());
  for (const char* ctx : {"", "not json", "[1, 2]", "\"str\"", "{\"messages\": ", "{\"_ax_now\": 5}",
                          "{\"_ax_now\": \"yesterday\"}"}) {
    auto r = (*t)->Render(ctx);
    EXPECT_FALSE(r.ok()) << ctx;
  }
  // Wrong shapes are template errors or empty renders, never crashes.
  for (const char* ctx : {"{}", "{\"messages\": null}", "{\"messages\": 5}", "{\"messages\": [null]}",
                          "{\"messages\": [[1]]}", "{\"messages\": {\"0\": 1}}"}) {
    (void)(*t)->Render(ctx);
  }
}

TEST(ChatTemplateErrors, ContextDefaultsMirrorTransformers) {
  auto t = ChatTemplate::FromSource(
      "{{ bos_token }}|{{ eos_token }}|{{ tools is none }}|{{ documents is none }}|{{ add_generation_prompt }}", "<s>",
      "</s>");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(*(*t)->Render("{}"), "<s>|</s>|True|True|False");
  EXPECT_EQ(*(*t)->Render(R"({"bos_token": "B", "tools": [], "add_generation_prompt": true})"), "B|</s>|False|True|True");
  auto no_bos = ChatTemplate::FromSource("{{ bos_token is defined }}", "", "</s>");
  ASSERT_TRUE(no_bos.ok());
  EXPECT_EQ(*(*no_bos)->Render("{}"), "False");
}

TEST(ChatTemplateErrors, StrftimeNowCanBePinned) {
  auto r = RenderOnce("{{ strftime_now('%d %b %Y') }}", R"({"_ax_now": "2024-07-26"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "26 Jul 2024");
  auto live = RenderOnce("{{ strftime_now('%Y') | length }}");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ(*live, "4");
}

TEST(ChatTemplateErrors, LimitsHold) {
  EXPECT_FALSE(RenderOnce("{{ 'x' * 100000000 }}").ok());
  EXPECT_FALSE(RenderOnce("{{ range(200000) | length }}").ok());
  EXPECT_FALSE(RenderOnce("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").ok());
  std::string deep_parens = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  EXPECT_FALSE(ParseError(deep_parens).ok());
  std::string long_chain = "{{ x";
  for (int i = 0; i < 20000; ++i) long_chain += ".a";
  EXPECT_FALSE(ParseError(long_chain + " }}").ok());
  std::string deep_ifs;
  for (int i = 0; i < 1000; ++i) deep_ifs += "{% if true %}";
  EXPECT_FALSE(ParseError(deep_ifs).ok());
  // A long but legal expression still works.
  std::string sum = "{{ 0";
  for (int i = 0; i < 1000; ++i) sum += " + 1";
  EXPECT_EQ(MessageOf(RenderOnce(sum + " }}")), "ok: 1000");
  // Namespaces cannot nest (no cycles, no unbounded chains); values nest boundedly.
  EXPECT_FALSE(RenderOnce("{% set ns = namespace(a=1) %}{% set ns.self = ns %}{{ ns }}").ok());
  EXPECT_FALSE(RenderOnce("{% set ns = namespace(a=[]) %}{% set ns.a = [ns] %}").ok());
  EXPECT_FALSE(RenderOnce("{% set ns = namespace(l=[]) %}{% for i in range(2000) %}{% set ns.l = [ns.l] %}{% endfor %}").ok());
  std::string deep_json = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_FALSE(RenderOnce("{{ x }}", "{\"x\": " + deep_json + "}").ok());
  auto t = jinja::Template::Parse("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}");
  ASSERT_TRUE(t.ok());
  jinja::RenderOptions opts;
  opts.limits.max_steps = 100000;
  EXPECT_FALSE(t->Render(jinja::Dict(), opts).ok());
}

// Mutates real templates and random token soup; every parse/render must return.
TEST(ChatTemplateErrors, FuzzNeverCrashes) {
  std::vector<std::string> seeds = {
      "{%- for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content | trim }}{% if not loop.last %}\n"
      "{% endif %}{%- endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant' }}{% endif %}",
      "{% set ns = namespace(x=0) %}{% for k, v in d | dictsort %}{% set ns.x = ns.x + v %}{% endfor %}{{ ns.x }}",
      "{% macro m(a, b=2) %}{{ a ~ b }}{% endmacro %}{{ m(1) | upper }}{{ [1,2,3][::-1] | join(',') }}",
      "{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content') | list | tojson(indent=2) }}"};
  const char* pieces[] = {"{{", "}}", "{%", "%}", "{#", "#}", "-", "+", "(", ")", "[", "]", "{", "}", "|", ".",
                          ",", ":", "'", "\"", "if", "for", "in", "endfor", "endif", "set", "=", "macro", "x",
                          "1", "none", "is", "not", "and", "loop", "~", "*", "**", "\n", " ", "\\", "é", "🙂"};
  const std::string context =
      R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": null}],
          "d": {"a": 1, "b": 2}, "x": [1, "two", 3.5, null, {"k": []}]})";
  std::mt19937 rng(1234);
  int rendered = 0;
  const char* env = std::getenv("AX_FUZZ_ITERS");  // longer runs by hand
  const int iters = env != nullptr ? std::atoi(env) : 3000;
  for (int iter = 0; iter < iters; ++iter) {
    std::string src = seeds[rng() % seeds.size()];
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t at = src.empty() ? 0 : rng() % src.size();
      switch (rng() % 3) {
        case 0: src.insert(at, pieces[rng() % (sizeof(pieces) / sizeof(pieces[0]))]); break;
        case 1: src.erase(at, 1 + rng() % 5); break;
        default: src[at == src.size() ? 0 : at] = static_cast<char>(rng() % 256); break;
      }
    }
    auto t = ChatTemplate::FromSource(src, "<s>", "</s>");
    if (!t.ok()) continue;
    auto r = (*t)->Render(context);
    rendered += r.ok();
  }
  EXPECT_GT(rendered, 0);
}

class LoadFromDirTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("ax_chat_template_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::filesystem::path dir_;
};

TEST_F(LoadFromDirTest, MissingTemplateIsNotFound) {
  auto t = ChatTemplate::LoadFromDir(dir_.string());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  Write("tokenizer_config.json", R"({"bos_token": "<s>"})");
  EXPECT_EQ(ChatTemplate::LoadFromDir(dir_.string()).status().code(), StatusCode::kNotFound);
}

TEST_F(LoadFromDirTest, AddedTokenDictsAndNamedTemplates) {
  Write("tokenizer_config.json",
        R"({"bos_token": {"content": "<B>", "lstrip": false}, "eos_token": "<E>", "pad_token": null,
            "additional_special_tokens": ["<x>", {"content": "<y>"}],
            "chat_template": [{"name": "tool_use", "template": "tools"},
                              {"name": "default", "template": "{{ bos_token }}{{ eos_token }}{{ pad_token is defined }}{{ additional_special_tokens | join }}"}]})");
  auto t = ChatTemplate::LoadFromDir(dir_.string());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*(*t)->Render("{}"), "<B><E>False<x><y>");
}

TEST_F(LoadFromDirTest, JinjaFileWinsAndErrorsNameTheFile) {
  Write("tokenizer_config.json", R"({"eos_token": "<E>", "chat_template": "from config"})");
  Write("chat_template.jinja", "from file {{ eos_token }}\n");
  auto t = ChatTemplate::LoadFromDir(dir_.string());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*(*t)->Render("{}"), "from file <E>");
  Write("chat_template.jinja", "ok\n{% if %}");
  auto bad = ChatTemplate::LoadFromDir(dir_.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("chat_template.jinja"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos) << bad.status().message();
  std::filesystem::remove(dir_ / "chat_template.jinja");
  Write("tokenizer_config.json", R"({"chat_template": "{{ x | nofilter }}"})");
  auto bad2 = ChatTemplate::LoadFromDir(dir_.string());
  ASSERT_FALSE(bad2.ok());
  EXPECT_NE(bad2.status().message().find("tokenizer_config.json: chat_template: line 1"), std::string::npos)
      << bad2.status().message();
  Write("tokenizer_config.json", "{not json");
  EXPECT_FALSE(ChatTemplate::LoadFromDir(dir_.string()).ok());
}

// A user's template file (the server's --chat-template) wins over the model's, keeps
// the model's special tokens, and a missing file is NotFound naming it.
TEST_F(LoadFromDirTest, TemplateFileOverrideKeepsTheSpecialTokens) {
  Write("tokenizer_config.json", R"({"eos_token": "<E>", "chat_template": "from config"})");
  Write("chat_template.jinja", "from the model's file\n");
  Write("override.jinja", "override {{ eos_token }}");
  auto t = ChatTemplate::LoadFromDir(dir_.string(), (dir_ / "override.jinja").string());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*(*t)->Render("{}"), "override <E>");
  auto missing = ChatTemplate::LoadFromDir(dir_.string(), (dir_ / "nope.jinja").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.jinja"), std::string::npos);
}

}  // namespace
}  // namespace ax
