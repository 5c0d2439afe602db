// Every render in tests/fixtures/chat_template/goldens.json (made by
// scripts/chat-template-goldens/make_goldens.mjs with @huggingface/jinja) must come out
// of our interpreter byte-identical, and renders that fail there must fail here.
// Renders annotated with jinja2_expected / jinja2_error (check_jinja2.py --annotate)
// are ones where @huggingface/jinja and Python's Jinja2 disagree; we follow Jinja2.
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/chat_template.h"

namespace ax {
namespace {

using Json = nlohmann::ordered_json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ResolveDir(const std::string& rel) {
  const std::string shared = "shared/";
  if (rel.rfind(shared, 0) == 0) return std::string(AX_SHARED_DIR) + "/" + rel.substr(shared.size());
  return std::string(AX_FIXTURES_DIR) + "/" + rel.substr(std::string("fixtures/").size());
}

bool SharedPresent() {
  std::ifstream probe(std::string(AX_SHARED_DIR) + "/tokenizers/qwen3/tokenizer_config.json");
  return probe.good();
}

TEST(ChatTemplateGolden, MatchesHuggingFaceRenderings) {
  if (!SharedPresent()) GTEST_SKIP() << "shared tokenizers not found under " << AX_SHARED_DIR;
  std::string text = ReadAll(std::string(AX_FIXTURES_DIR) + "/chat_template/goldens.json");
  ASSERT_FALSE(text.empty());
  Json goldens = Json::parse(text);

  std::map<std::string, std::unique_ptr<ChatTemplate>> templates;
  for (auto it = goldens["templates"].begin(); it != goldens["templates"].end(); ++it) {
    auto t = ChatTemplate::LoadFromDir(ResolveDir(it.value().get<std::string>()));
    ASSERT_TRUE(t.ok()) << it.key() << ": " << t.status().ToString();
    templates[it.key()] = std::move(t).value();
  }
  std::map<std::string, Json> contexts;
  for (const Json& c : goldens["conversations"]) contexts[c["name"].get<std::string>()] = c["context"];

  int matched = 0, failed_as_expected = 0;
  for (const Json& r : goldens["renders"]) {
    const std::string name = r["template"].get<std::string>() + "/" + r["conversation"].get<std::string>();
    SCOPED_TRACE(name);
    const ChatTemplate& t = *templates.at(r["template"].get<std::string>());
    Result<std::string> got = t.Render(contexts.at(r["conversation"].get<std::string>()).dump());
    const char* expected_key = r.contains("jinja2_expected") ? "jinja2_expected" : "expected";
    bool expect_error = r.contains("jinja2_error") || (!r.contains("jinja2_expected") && r.contains("error"));
    if (expect_error) {
      EXPECT_FALSE(got.ok()) << "expected an error like: " << r.value("error", r.value("jinja2_error", ""))
                             << "\ngot: " << (got.ok() ? *got : "");
      if (!got.ok()) ++failed_as_expected;
      continue;
    }
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, r[expected_key].get<std::string>());
    if (*got == r[expected_key].get<std::string>()) ++matched;
  }
  std::cout << "goldens: " << matched << " byte-identical, " << failed_as_expected << " errors as expected, of "
            << goldens["renders"].size() << " renders\n";
}

}  // namespace
}  // namespace ax
