// Engine tests of the routes a step's sampling takes (engine/step_forward.cpp): ids,
// candidates, candidates and masses, penalties on the backend, or logits on the host.
// A request run alone and the same request run beside a neighbour that forces another
// route must give the same tokens and logprobs.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "ax/engine.h"

namespace ax::testing {

// A neighbour whose presence makes every step it shares read logits and sample on the
// host (top_k 100: more than the backend's 64 candidates), running max_tokens tokens.
inline GenerateRequest HostRouteNeighbour(std::string prompt_text, int64_t max_tokens) {
  GenerateRequest r;
  r.prompt_text = std::move(prompt_text);
  r.max_tokens = max_tokens;
  r.ignore_eos = true;
  r.sampling.temperature = 0.9;
  r.sampling.top_k = 100;
  return r;
}
inline GenerateRequest HostRouteNeighbour(std::vector<int32_t> prompt_tokens, int64_t max_tokens) {
  GenerateRequest r = HostRouteNeighbour(std::string(), max_tokens);
  r.prompt_text.reset();
  r.prompt_tokens = std::move(prompt_tokens);
  return r;
}

// Runs `req` alone on a fresh engine of `cfg`, then on another beside `neighbour`
// (submitted together), and EXPECTs the same tokens and (when requested) logprobs.
// Returns the stats of the run alone (how many of its steps read logits).
inline EngineStats ExpectSameAloneAndBeside(const EngineConfig& cfg, const GenerateRequest& req,
                                            const GenerateRequest& neighbour, const std::string& label) {
  auto engine = Engine::Create(cfg);
  EXPECT_TRUE(engine.ok()) << engine.status().ToString();
  if (!engine.ok()) return {};
  auto alone = (*engine)->Generate(req);
  EXPECT_TRUE(alone.ok()) << alone.status().ToString();
  if (!alone.ok()) return {};
  const EngineStats stats = (*engine)->Stats();
  auto beside = Engine::Create(cfg);
  EXPECT_TRUE(beside.ok());
  if (!beside.ok()) return stats;
  auto a = (*beside)->Submit(req);
  auto b = (*beside)->Submit(neighbour);
  EXPECT_TRUE(a.ok() && b.ok());
  if (!a.ok() || !b.ok()) return stats;
  EXPECT_TRUE((*beside)->RunUntilIdle().ok());
  std::vector<int32_t> ids;
  std::vector<float> logprobs;
  StreamEvent ev;
  while ((*a)->Next(&ev, 0) && ev.kind == StreamEvent::Kind::kToken) {
    ids.push_back(ev.token.id);
    logprobs.push_back(ev.token.logprob);
  }
  EXPECT_EQ(ids, alone->output_tokens) << label;
  if (req.sampling.logprobs) {
    EXPECT_EQ(logprobs, alone->output_logprobs) << label;
  }
  return stats;
}

}  // namespace ax::testing
