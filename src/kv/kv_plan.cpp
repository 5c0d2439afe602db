#include "kv/kv_plan.h"

#include <algorithm>
#include <climits>

#include "base/check.h"

namespace ax {

int64_t WindowPoolBlocks(int window, const KvPlanParams& p) {
  AX_CHECK(window > 0 && p.block_size > 0 && p.max_seqs > 0 && p.max_batch_tokens > 0);
  const int64_t bs = p.block_size;
  const int64_t per_seq = (window - 1 + bs - 1) / bs + 2;
  return int64_t{p.max_seqs} * per_seq + (p.max_batch_tokens + bs - 1) / bs;
}

std::vector<KvGroupSpec> PlanKvGroups(const std::vector<int>& windows, int full_blocks, const KvPlanParams& p) {
  std::vector<KvGroupSpec> plan;
  for (int w : windows) {
    const int64_t blocks = w == 0 ? full_blocks : std::min<int64_t>(full_blocks, WindowPoolBlocks(w, p));
    plan.push_back({w, static_cast<int>(blocks)});
  }
  return plan;
}

int64_t PlanBytes(const std::vector<KvGroupSpec>& plan, const std::vector<int64_t>& bytes_per_block) {
  AX_CHECK(plan.size() == bytes_per_block.size());
  int64_t bytes = 0;
  for (size_t g = 0; g < plan.size(); ++g) bytes += int64_t{plan[g].num_blocks} * bytes_per_block[g];
  return bytes;
}

int FullBlocksWithin(const std::vector<int>& windows, const std::vector<int64_t>& bytes_per_block,
                     int64_t budget_bytes, int64_t max_full_blocks, const KvPlanParams& p) {
  // PlanBytes grows with full_blocks: the largest that fits, by bisection.
  int64_t lo = 1, hi = std::clamp<int64_t>(max_full_blocks, 1, INT_MAX);
  const auto fits = [&](int64_t n) {
    return PlanBytes(PlanKvGroups(windows, static_cast<int>(n), p), bytes_per_block) <= budget_bytes;
  };
  if (fits(hi)) return static_cast<int>(hi);
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  return static_cast<int>(lo);
}

}  // namespace ax
