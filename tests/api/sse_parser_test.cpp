// The SSE parser of the delegated routes, and the upstream URL rules.
#include "delegate/sse_parser.h"

#include <gtest/gtest.h>

#include "delegate/upstream_client.h"

namespace ax::delegate {
namespace {

std::vector<SseEvent> ParseInPieces(const std::string& stream, size_t piece) {
  std::vector<SseEvent> events;
  SseParser p([&](const SseEvent& e) {
    events.push_back(e);
    return true;
  });
  for (size_t i = 0; i < stream.size(); i += piece) EXPECT_TRUE(p.Feed(std::string_view(stream).substr(i, piece)));
  return events;
}

TEST(SseParser, EventsSplitAnywhere) {
  const std::string stream =
      ": keep-alive\r\n\r\n"
      "data: {\"a\":1}\r\n\r\n"
      "event: error\ndata: line one\ndata:line two\n\n"
      "data: [DONE]\r\r";
  for (size_t piece : {1, 2, 3, 7, 1000}) {
    SCOPED_TRACE(piece);
    auto ev = ParseInPieces(stream, piece);
    ASSERT_EQ(ev.size(), 3u);
    EXPECT_EQ(ev[0].data, "{\"a\":1}");
    EXPECT_EQ(ev[0].event, "");
    EXPECT_EQ(ev[1].event, "error");
    EXPECT_EQ(ev[1].data, "line one\nline two");
    EXPECT_EQ(ev[2].data, "[DONE]");
  }
}

TEST(SseParser, NoEventWithoutBlankLineOrData) {
  auto ev = ParseInPieces("event: x\n\ndata: partial", 4);
  EXPECT_TRUE(ev.empty());
}

TEST(SseParser, StopsWhenTheCallbackSaysSo) {
  int seen = 0;
  SseParser p([&](const SseEvent&) { return ++seen < 2; });
  EXPECT_FALSE(p.Feed("data: 1\n\ndata: 2\n\ndata: 3\n\n"));
  EXPECT_EQ(seen, 2);
}

TEST(UpstreamUrl, RootAndV1Suffix) {
  auto a = ParseUpstreamUrl("http://127.0.0.1:8080/v1/", "upstream.url");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->origin, "http://127.0.0.1:8080");
  EXPECT_EQ(a->base_path, "");
  auto b = ParseUpstreamUrl("https://example.org/proxy/v1", "upstream.url");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->origin, "https://example.org");
  EXPECT_EQ(b->base_path, "/proxy");
  EXPECT_EQ(b->root_url(), "https://example.org/proxy");
}

TEST(UpstreamUrl, BadUrlsNameTheField) {
  for (const char* url : {"127.0.0.1:8080", "ftp://host", "http://", ""}) {
    auto a = ParseUpstreamUrl(url, "--upstream-url");
    ASSERT_FALSE(a.ok()) << url;
    EXPECT_NE(a.status().message().find("--upstream-url"), std::string::npos) << a.status().message();
  }
}

TEST(UpstreamErrorMessage, OpenAiShapes) {
  EXPECT_EQ(UpstreamErrorMessage(R"({"error": {"message": "bad temperature", "type": "x"}})"), "bad temperature");
  EXPECT_EQ(UpstreamErrorMessage(R"({"error": "model not loaded"})"), "model not loaded");
  EXPECT_EQ(UpstreamErrorMessage(R"({"detail": "Not Found"})"), "Not Found");
  EXPECT_EQ(UpstreamErrorMessage("plain text"), "plain text");
}

}  // namespace
}  // namespace ax::delegate
