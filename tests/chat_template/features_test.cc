// Language features, one small template each, from tests/fixtures/chat_template/
// features.json: the expected text (or failure) is what Jinja2 configured like
// transformers produces (scripts/chat-template-goldens/make_features.py).
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tokenizer/chat_template.h"

namespace ax {
namespace {

using Json = nlohmann::ordered_json;

Json LoadCases() {
  std::ifstream in(std::string(AX_FIXTURES_DIR) + "/chat_template/features.json", std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return Json::parse(ss.str())["cases"];
}

class FeatureTest : public testing::TestWithParam<Json> {};

TEST_P(FeatureTest, MatchesJinja2) {
  const Json& c = GetParam();
  auto t = ChatTemplate::FromSource(c["template"].get<std::string>(), "", "");
  if (c.contains("error")) {
    if (!t.ok()) return;  // a syntax error is an acceptable failure
    auto r = (*t)->Render(c["context"].dump());
    EXPECT_FALSE(r.ok()) << "expected failure like: " << c["error"].get<std::string>() << "\ngot: " << (r.ok() ? *r : "");
    return;
  }
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  auto r = (*t)->Render(c["context"].dump());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, c["expected"].get<std::string>());
}

std::string CaseName(const testing::TestParamInfo<Json>& info) { return info.param["name"].get<std::string>(); }

INSTANTIATE_TEST_SUITE_P(Jinja, FeatureTest, testing::ValuesIn(LoadCases().get<std::vector<Json>>()), CaseName);

}  // namespace
}  // namespace ax
