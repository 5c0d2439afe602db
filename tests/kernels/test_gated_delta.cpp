// GatedDelta linear attention (kernels/params.h GatedDeltaParams): cpu::GatedDelta
// against ref::GatedDelta at odd head dims, grouped value heads, conv kernels 1 to 4,
// several sequences with state carried across calls, 1/2/3 threads, poisoned outputs;
// and the properties the engine relies on, bit for bit on the CPU kernel: a sequence
// computed in chunks equals it computed whole, a sequence alone equals it batched, and
// a chunk at position 0 ignores whatever its slot held. SigmoidMul against ref too.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernel_test_util.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/ref.h"

namespace ax::kernels {
namespace {

using testing::kPoison;
using testing::Pool;
using testing::RandomF32;

struct GdShape {
  int hk, hv, dk, dv, kernel;
};

// One layer's inputs and states for `slots` sequences, and a way to run a batch.
struct Layer {
  GdShape s;
  int slots;
  std::vector<float> conv_w, a_log, dt_bias, norm_w;
  std::vector<float> conv_state, state;

  Layer(GdShape shape, int num_slots, uint32_t seed) : s(shape), slots(num_slots) {
    const int64_t C = Params().conv_dim();
    conv_w = RandomF32(static_cast<size_t>(C * s.kernel), seed, -0.6f, 0.6f);
    a_log = RandomF32(static_cast<size_t>(s.hv), seed + 1, -1.0f, 1.5f);
    dt_bias = RandomF32(static_cast<size_t>(s.hv), seed + 2, -1.0f, 1.0f);
    norm_w = RandomF32(static_cast<size_t>(s.dv), seed + 3, 0.5f, 1.5f);
    conv_state.assign(static_cast<size_t>(slots * C * std::max(1, s.kernel - 1)), kPoison);
    state.assign(static_cast<size_t>(slots) * s.hv * s.dk * s.dv, kPoison);
  }
  int64_t ProjCols() const { return Params().conv_dim() + int64_t{s.hv} * s.dv + 2 * s.hv; }
  GatedDeltaParams Params() const {
    GatedDeltaParams p;
    p.n_k_heads = s.hk;
    p.n_v_heads = s.hv;
    p.dk = s.dk;
    p.dv = s.dv;
    p.kernel = s.kernel;
    return p;
  }
};

// A batch of sequences: rows of proj, positions, begins, lengths, slots.
struct Batch {
  std::vector<float> proj;
  std::vector<int32_t> positions, begin, len, slots;
};

Batch MakeBatch(const Layer& L, const std::vector<std::pair<int32_t, int32_t>>& seqs /* (start, n) */,
                const std::vector<int32_t>& slots, uint32_t seed) {
  Batch b;
  int32_t rows = 0;
  for (const auto& [start, n] : seqs) {
    b.begin.push_back(rows);
    b.len.push_back(n);
    for (int32_t i = 0; i < n; ++i) b.positions.push_back(start + i);
    rows += n;
  }
  b.proj = RandomF32(static_cast<size_t>(rows * L.ProjCols()), seed, -2.0f, 2.0f);
  b.slots = slots;
  return b;
}

std::vector<float> RunLayer(Layer& L, const Batch& b, bool fast, int threads = 2, int64_t first_row = 0,
                            int first_seq = 0, int n_seqs = -1) {
  GatedDeltaParams p = L.Params();
  const int64_t C = p.conv_dim(), cols = L.ProjCols();
  if (n_seqs < 0) n_seqs = static_cast<int>(b.begin.size());
  std::vector<int32_t> begin;
  for (int s = first_seq; s < first_seq + n_seqs; ++s)
    begin.push_back(b.begin[static_cast<size_t>(s)] - static_cast<int32_t>(first_row));
  int64_t rows = 0;
  for (int s = first_seq; s < first_seq + n_seqs; ++s) rows += b.len[static_cast<size_t>(s)];
  std::vector<float> out(static_cast<size_t>(rows * L.s.hv * L.s.dv), kPoison);
  std::vector<float> scratch(static_cast<size_t>(rows * C), kPoison);
  p.proj = b.proj.data() + first_row * cols;
  p.proj_stride = cols;
  p.z_off = C;
  p.b_off = C + int64_t{L.s.hv} * L.s.dv;
  p.a_off = p.b_off + L.s.hv;
  p.conv_w = L.conv_w.data();
  p.a_log = L.a_log.data();
  p.dt_bias = L.dt_bias.data();
  p.norm_w = L.norm_w.data();
  p.conv_state = L.conv_state.data();
  p.state = L.state.data();
  p.out = out.data();
  p.scratch = scratch.data();
  p.positions = b.positions.data() + first_row;
  p.seq_q_begin = begin.data();
  p.seq_q_len = b.len.data() + first_seq;
  p.slots = b.slots.data() + first_seq;
  p.n_seqs = n_seqs;
  if (fast)
    cpu::GatedDelta(p, Pool(threads));
  else
    ref::GatedDelta(p);
  return out;
}

void ExpectNear(const std::vector<float>& got, const std::vector<float>& want, double tol, const char* what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_FALSE(std::isnan(got[i])) << what << " element " << i << " not written";
    ASSERT_NEAR(got[i], want[i], tol * std::max(1.0f, std::abs(want[i]))) << what << " element " << i;
  }
}

class GatedDeltaTest : public ::testing::TestWithParam<GdShape> {};

// Two calls per sequence (a prompt chunk from position 0, then a continuation), three
// sequences in one batch: outputs and states of the CPU kernel within f32 rounding of ref.
TEST_P(GatedDeltaTest, CpuMatchesRefAcrossCalls) {
  for (int threads : testing::kThreadCounts) {
    Layer fast(GetParam(), 4, 7), ref(GetParam(), 4, 7);
    const Batch first = MakeBatch(fast, {{0, 5}, {0, 1}, {0, 9}}, {2, 0, 3}, 11);
    const Batch next = MakeBatch(fast, {{1, 3}, {5, 1}, {9, 7}}, {0, 2, 3}, 12);
    for (const Batch* b : {&first, &next}) {
      const std::vector<float> want = RunLayer(ref, *b, false), got = RunLayer(fast, *b, true, threads);
      ExpectNear(got, want, 2e-4, "out");
    }
    for (size_t i = 0; i < ref.state.size(); ++i) {
      if (std::isnan(ref.state[i])) continue;  // slot 1 was never used
      ASSERT_NEAR(fast.state[i], ref.state[i], 2e-4 * std::max(1.0f, std::abs(ref.state[i]))) << "state " << i;
    }
  }
}

// Whole vs chunked vs token by token, and alone vs batched: the same bits.
TEST_P(GatedDeltaTest, CpuChunkingAndBatchingAreInvisible) {
  const int n = 13;
  Layer whole(GetParam(), 3, 5);
  const Batch b = MakeBatch(whole, {{0, n}}, {1}, 21);
  const std::vector<float> want = RunLayer(whole, b, true, 3);
  for (int chunk : {1, 4, 6}) {
    Layer L(GetParam(), 3, 5);
    std::vector<float> got;
    for (int start = 0; start < n; start += chunk) {
      const int len = std::min(chunk, n - start);
      Batch part;
      part.proj.assign(b.proj.begin() + start * L.ProjCols(), b.proj.begin() + (start + len) * L.ProjCols());
      for (int i = 0; i < len; ++i) part.positions.push_back(start + i);
      part.begin = {0};
      part.len = {len};
      part.slots = {1};
      const std::vector<float> o = RunLayer(L, part, true, 2);
      got.insert(got.end(), o.begin(), o.end());
    }
    ASSERT_EQ(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)), 0) << "chunk " << chunk;
  }
  // The same sequence between two others (in another slot): its rows are the same bits.
  Layer L(GetParam(), 3, 5);
  Batch three = MakeBatch(L, {{0, 4}, {0, n}, {0, 2}}, {0, 2, 1}, 22);
  std::copy(b.proj.begin(), b.proj.end(), three.proj.begin() + 4 * L.ProjCols());
  const std::vector<float> all = RunLayer(L, three, true, 2);
  const size_t row = static_cast<size_t>(L.s.hv * L.s.dv);
  ASSERT_EQ(std::memcmp(all.data() + 4 * row, want.data(), want.size() * sizeof(float)), 0);
}

INSTANTIATE_TEST_SUITE_P(Shapes, GatedDeltaTest,
                         ::testing::Values(GdShape{1, 1, 16, 16, 4}, GdShape{2, 4, 16, 8, 4}, GdShape{1, 3, 7, 5, 3},
                                           GdShape{2, 2, 33, 24, 1}, GdShape{3, 6, 8, 17, 2}));

// keep_rows: the states after each row but the last of a kept sequence, in its slot's checkpoints —
// the CPU kernel's bit for bit those it reaches by stopping after that row, and within
// f32 rounding of ref's.
TEST(GatedDeltaCheckpoints, KeptRowsAreTheStatesAfterEachRow) {
  const GdShape s{2, 4, 16, 8, 4};
  const int ck = 3, slots = 2;
  Layer L(s, slots, 3);
  const Batch prefill = MakeBatch(L, {{0, 6}}, {1}, 41);
  const Batch drafted = MakeBatch(L, {{6, 4}}, {1}, 42);
  const int64_t C = L.Params().conv_dim();
  const size_t conv_slot = static_cast<size_t>(C * (s.kernel - 1)),
               state_slot = static_cast<size_t>(s.hv * s.dk * s.dv);
  for (bool fast : {true, false}) {
    Layer A(s, slots, 3);
    RunLayer(A, prefill, fast);
    std::vector<float> conv_ck(slots * ck * conv_slot, kPoison), state_ck(slots * ck * state_slot, kPoison);
    GatedDeltaParams p = A.Params();  // the drafted chunk with keep_rows, by hand
    std::vector<float> out(static_cast<size_t>(4 * s.hv * s.dv)), scratch(static_cast<size_t>(4 * C));
    const int32_t begin[] = {0}, len[] = {4}, slot[] = {1}, keep[] = {1};
    p.proj = drafted.proj.data();
    p.proj_stride = A.ProjCols();
    p.z_off = C;
    p.b_off = C + int64_t{s.hv} * s.dv;
    p.a_off = p.b_off + s.hv;
    p.conv_w = A.conv_w.data();
    p.a_log = A.a_log.data();
    p.dt_bias = A.dt_bias.data();
    p.norm_w = A.norm_w.data();
    p.conv_state = A.conv_state.data();
    p.state = A.state.data();
    p.out = out.data();
    p.scratch = scratch.data();
    p.positions = drafted.positions.data();
    p.seq_q_begin = begin;
    p.seq_q_len = len;
    p.slots = slot;
    p.n_seqs = 1;
    p.keep_rows = keep;
    p.conv_ckpt = conv_ck.data();
    p.state_ckpt = state_ck.data();
    p.n_checkpoints = ck;
    if (fast)
      cpu::GatedDelta(p, Pool(2));
    else
      ref::GatedDelta(p);
    for (int rows = 1; rows <= ck; ++rows) {  // stop after `rows` rows instead
      Layer B(s, slots, 3);
      RunLayer(B, prefill, fast);
      Batch part = drafted;
      part.proj.resize(static_cast<size_t>(rows * B.ProjCols()));
      part.positions.resize(static_cast<size_t>(rows));
      part.len = {rows};
      RunLayer(B, part, fast);
      const size_t at = (1 * ck + static_cast<size_t>(rows - 1));
      for (size_t i = 0; i < conv_slot; ++i)
        ASSERT_EQ(conv_ck[at * conv_slot + i], B.conv_state[conv_slot + i])
            << fast << " rows " << rows << " conv " << i;
      for (size_t i = 0; i < state_slot; ++i)
        ASSERT_EQ(state_ck[at * state_slot + i], B.state[state_slot + i]) << fast << " rows " << rows << " state " << i;
    }
  }
}

// A chunk at position 0 starts from zero state whatever its slot held.
TEST(GatedDeltaReset, PositionZeroClearsTheSlot) {
  const GdShape s{2, 4, 16, 8, 4};
  Layer a(s, 1, 9), b(s, 1, 9);
  const Batch batch = MakeBatch(a, {{0, 6}}, {0}, 31);
  std::fill(b.conv_state.begin(), b.conv_state.end(), 123.0f);
  std::fill(b.state.begin(), b.state.end(), -7.0f);
  const std::vector<float> x = RunLayer(a, batch, true), y = RunLayer(b, batch, true);
  ASSERT_EQ(std::memcmp(x.data(), y.data(), x.size() * sizeof(float)), 0);
  const std::vector<float> rx = RunLayer(a, batch, false), ry = RunLayer(b, batch, false);
  ASSERT_EQ(std::memcmp(rx.data(), ry.data(), rx.size() * sizeof(float)), 0);
}

TEST(SigmoidMul, CpuMatchesRefElementwiseAndPerRow) {
  for (int64_t g : {int64_t{1}, int64_t{37}}) {
    const int64_t m = 5, d = 37;
    const std::vector<float> gate = RandomF32(static_cast<size_t>(m * g), 3, -4.0f, 4.0f);
    std::vector<float> x = RandomF32(static_cast<size_t>(m * d), 4), y = x;
    SigmoidMulParams p{gate.data(), 0, x.data(), m, d, g};
    ref::SigmoidMul(p);
    p.x = y.data();
    cpu::SigmoidMul(p, Pool(2));
    for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(y[i], x[i], 1e-6) << "g " << g << " element " << i;
    const float r0 = 1.0f / (1.0f + std::exp(-gate[0]));
    ASSERT_NEAR(x[1], RandomF32(static_cast<size_t>(m * d), 4)[1] * (g == 1 ? r0 : 1.0f / (1.0f + std::exp(-gate[1]))),
                1e-6);
  }
}

}  // namespace
}  // namespace ax::kernels
