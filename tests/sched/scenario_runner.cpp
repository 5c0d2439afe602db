// Runs scheduler/KV scenario files (tests/sched/scenarios/*.scn): arrivals, then per
// step the expected plan and block ids. Format, one command per line (# comments):
//
//   config block_size=4 num_blocks=8 max_batch_tokens=8 max_seqs=4 prefix_caching=1
//          [window=8 window_blocks=6]   # a second KV group: layers of window 8
//   add id=1 prompt=1,2,3,4,5 max_new=3 [priority=0]   # expect ok unless `fails`
//   add id=9 prompt=... max_new=... fails               # Add must return an error
//   step                          # Schedule()
//   expect plan 1:0+5 2:0+3       # items in order: id:start+num_tokens ('-' = none)
//   expect admitted 1 2 | expect preempted 2 | expect running 1 | expect waiting 2
//   expect blocks 1 7,6           # the sequence's block table (x: released)
//   expect free 3 | expect cached 2 | expect hit 2 4 (prefix_hit_tokens)
//   (blocks, free and cached take a trailing group=1 for the window group)
//   advance                       # Advance(plan); sequences that caught up get the
//                                 # token 1000+len appended (a stand-in for sampling)
//   remove 1                      # finish / cancel
//   truncate 1 6                  # draft rollback to 6 tokens
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "sched/scheduler.h"

namespace ax {
namespace {

std::map<std::string, std::string> KeyValues(std::istringstream& in) {
  std::map<std::string, std::string> kv;
  std::string tok;
  while (in >> tok) {
    const size_t eq = tok.find('=');
    kv[tok.substr(0, eq)] = eq == std::string::npos ? "" : tok.substr(eq + 1);
  }
  return kv;
}

std::vector<int64_t> Ints(const std::string& s, char sep = ',') {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(std::stoll(item));
  return out;
}

std::string Join(const std::vector<int64_t>& v, const char* sep = ",") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + std::to_string(v[i]);
  return s;
}

// An optional trailing group=N (default 0).
int GroupOf(std::istringstream& in) {
  std::string tok;
  if (!(in >> tok)) return 0;
  return tok.rfind("group=", 0) == 0 ? std::stoi(tok.substr(6)) : -1;
}

std::string Rest(std::istringstream& in) {
  std::string rest, tok;
  while (in >> tok) rest += (rest.empty() ? "" : " ") + tok;
  return rest;
}

void RunScenario(const std::filesystem::path& path) {
  std::ifstream file(path);
  ASSERT_TRUE(file) << path;
  std::unique_ptr<KvManager> kv;
  std::unique_ptr<Scheduler> sched;
  StepPlan plan;
  std::string line;
  int lineno = 0;
  while (std::getline(file, line)) {
    ++lineno;
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream in(line);
    std::string cmd;
    if (!(in >> cmd)) continue;
    const std::string where = path.filename().string() + ":" + std::to_string(lineno) + ": " + line;
    if (cmd == "config") {
      auto c = KeyValues(in);
      std::vector<KvGroupSpec> groups = {{0, std::stoi(c["num_blocks"])}};
      if (c.count("window")) groups.push_back({std::stoi(c["window"]), std::stoi(c["window_blocks"])});
      kv = std::make_unique<KvManager>(groups, std::stoi(c["block_size"]),
                                       c.count("prefix_caching") ? c["prefix_caching"] == "1" : true);
      SchedulerConfig sc;
      sc.max_batch_tokens = std::stoll(c["max_batch_tokens"]);
      sc.max_seqs = std::stoi(c["max_seqs"]);
      sched = std::make_unique<Scheduler>(sc, *kv);
      continue;
    }
    ASSERT_TRUE(sched) << where << " (config first)";
    if (cmd == "add") {
      auto c = KeyValues(in);
      Sequence s;
      s.id = std::stoll(c["id"]);
      for (int64_t t : Ints(c["prompt"])) s.tokens.push_back(static_cast<int32_t>(t));
      s.num_prompt = static_cast<int64_t>(s.tokens.size());
      s.max_total_tokens = s.num_prompt + std::stoll(c["max_new"]);
      if (c.count("priority")) s.priority = std::stoi(c["priority"]);
      Status st = sched->Add(std::move(s));
      EXPECT_EQ(st.ok(), c.count("fails") == 0) << where << " -> " << st.ToString();
    } else if (cmd == "step") {
      plan = sched->Schedule();
    } else if (cmd == "advance") {
      sched->Advance(plan);
      for (const PlanItem& it : plan.items) {
        Sequence* s = sched->Get(it.id);
        if (s && s->num_computed == static_cast<int64_t>(s->tokens.size()))
          s->tokens.push_back(1000 + static_cast<int32_t>(s->tokens.size()));
      }
    } else if (cmd == "remove") {
      int64_t id;
      in >> id;
      sched->Remove(id);
    } else if (cmd == "truncate") {
      int64_t id, len;
      in >> id >> len;
      Sequence* s = sched->Get(id);
      ASSERT_TRUE(s) << where;
      s->tokens.resize(static_cast<size_t>(len));
      sched->Truncate(id, len);
    } else if (cmd == "expect") {
      std::string what;
      in >> what;
      if (what == "plan") {
        std::string got;
        for (const PlanItem& it : plan.items)
          got += (got.empty() ? "" : " ") + std::to_string(it.id) + ":" + std::to_string(it.start) + "+" +
                 std::to_string(it.num_tokens);
        std::string want = Rest(in);
        if (want == "-") want.clear();
        EXPECT_EQ(got, want) << where;
      } else if (what == "admitted" || what == "preempted") {
        const auto& v = what == "admitted" ? plan.admitted : plan.preempted;
        EXPECT_EQ(Join(std::vector<int64_t>(v.begin(), v.end()), " "), Rest(in)) << where;
      } else if (what == "running") {
        const auto& v = sched->running();
        EXPECT_EQ(Join(std::vector<int64_t>(v.begin(), v.end()), " "), Rest(in)) << where;
      } else if (what == "waiting") {
        const auto& v = sched->waiting();
        EXPECT_EQ(Join(std::vector<int64_t>(v.begin(), v.end()), " "), Rest(in)) << where;
      } else if (what == "blocks") {
        int64_t id;
        std::string want;
        in >> id >> want;
        const int group = GroupOf(in);
        std::string got;
        for (int32_t b : kv->blocks(id, group))
          got += (got.empty() ? "" : ",") + (b == kNoBlock ? std::string("x") : std::to_string(b));
        EXPECT_EQ(got, want == "-" ? "" : want) << where;
      } else if (what == "free" || what == "cached") {
        int n;
        in >> n;
        const BlockPool& pool = kv->pool(GroupOf(in));
        EXPECT_EQ(what == "free" ? pool.num_free() : pool.num_cached_free(), n) << where;
      } else if (what == "hit") {
        int64_t id, n;
        in >> id >> n;
        ASSERT_TRUE(sched->Get(id)) << where;
        EXPECT_EQ(sched->Get(id)->prefix_hit_tokens, n) << where;
      } else {
        ADD_FAILURE() << where << ": unknown expectation";
      }
    } else {
      ADD_FAILURE() << where << ": unknown command";
    }
  }
}

class Scenario : public ::testing::TestWithParam<std::string> {};

TEST_P(Scenario, Runs) { RunScenario(GetParam()); }

std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(std::string(AX_SOURCE_DIR) + "/tests/sched/scenarios"))
    if (e.path().extension() == ".scn") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Files, Scenario, ::testing::ValuesIn(ScenarioFiles()),
                         [](const auto& param_info) {
                           std::string n = std::filesystem::path(param_info.param).stem().string();
                           for (char& c : n)
                             if (!isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

}  // namespace
}  // namespace ax
