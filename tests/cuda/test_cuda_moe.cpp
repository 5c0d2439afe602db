// The CUDA backend's MoE ops (RouteTopK, MoeExperts) against the scalar oracle, in
// bf16 and in the f32 mode, and the experts' batch invariance: a row's bits do not
// depend on the rows it shares a launch (and its experts) with, within its row class
// (generated rows per row, prompt rows grouped per expert).
#include "cuda_test_util.h"
#include "kernels/ref/ref.h"

namespace ax::cuda_testing {
namespace {

class CudaMoeP : public testing::TestWithParam<bool> {  // true: the f32 mode
 protected:
  bool F32() const { return GetParam(); }
  Backend& Be() const { return F32() ? *CudaF32() : *Cuda(); }
  DType Act() const { return F32() ? DType::kF32 : DType::kBF16; }
  std::vector<float> Input(size_t n, uint32_t seed) const { return F32() ? Random(n, seed) : RandomBf16(n, seed); }
};
INSTANTIATE_TEST_SUITE_P(Precisions, CudaMoeP, testing::Bool(),
                         [](const testing::TestParamInfo<bool>& i) { return i.param ? "f32" : "bf16"; });

std::vector<int32_t> IdsToHost(Backend& be, const TensorView& t) {
  std::vector<int32_t> out(static_cast<size_t>(t.numel()));
  EXPECT_TRUE(be.ReadToHost(t, out.data(), t.nbytes()).ok());
  return out;
}

// Routes logits [n, E] on the device; ids and weights stay there.
struct Routed {
  TensorView ids, weights;
};
Routed RouteOnDevice(Backend& be, const std::vector<float>& logits, const MoeShape& s, const std::vector<float>* scale) {
  const int64_t n = static_cast<int64_t>(logits.size()) / s.num_experts;
  TensorView ld = ToDevice(be, logits, DType::kF32, Shape{n, s.num_experts});
  TensorView sd = scale != nullptr ? ToDevice(be, *scale, DType::kF32, Shape{s.num_experts}) : TensorView{};
  Routed r{be.Alloc(DType::kI32, Shape{n, s.top_k}).value(), be.Alloc(DType::kF32, Shape{n, s.top_k}).value()};
  be.RouteTopK(ld, sd, TensorView{}, s, r.ids, r.weights);
  return r;
}

TEST_P(CudaMoeP, RouteEqualsReference) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  struct Case {
    int E, k;
    bool softmax, normalize, per_expert;
  };
  for (const Case& c : {Case{8, 2, true, true, false}, Case{128, 8, true, false, true}, Case{512, 10, true, true, false},
                        Case{64, 6, false, true, true}, Case{5, 5, true, true, false}}) {
    const int64_t n = 37;
    MoeShape s;
    s.num_experts = c.E;
    s.top_k = c.k;
    s.softmax = c.softmax;
    s.normalize = c.normalize;
    s.scale = 1.5f;
    std::vector<float> logits = Random(static_cast<size_t>(n * c.E), 31, -4.0f, 4.0f);
    logits[3] = logits[4];  // a tie: the lower expert id ranks first
    const std::vector<float> scale = Random(static_cast<size_t>(c.E), 32, 0.5f, 2.0f);
    Routed r = RouteOnDevice(be, logits, s, c.per_expert ? &scale : nullptr);
    std::vector<int32_t> want_ids(static_cast<size_t>(n * c.k));
    std::vector<float> want_w(want_ids.size());
    kernels::RouteParams p;
    p.logits = logits.data();
    p.n = n;
    p.num_experts = c.E;
    p.k = c.k;
    p.softmax = c.softmax;
    p.normalize = c.normalize;
    p.per_expert_scale = c.per_expert ? scale.data() : nullptr;
    p.scale = s.scale;
    p.ids = want_ids.data();
    p.weights = want_w.data();
    kernels::ref::Route(p);
    EXPECT_EQ(IdsToHost(be, r.ids), want_ids) << "E " << c.E << " k " << c.k;
    EXPECT_LT(RelError(ToHost(be, r.weights), want_w), 1e-6) << "E " << c.E << " k " << c.k;
  }
}

struct Experts {
  std::vector<float> gate_up, down;  // bf16 values
  TensorView gate_up_d, down_d;
};
Experts MakeExperts(Backend& be, const MoeShape& s, int64_t hidden) {
  Experts e;
  const int64_t E = s.num_experts, I = s.inter;
  e.gate_up = RandomBf16(static_cast<size_t>(E * 2 * I * hidden), 41, -0.2f, 0.2f);
  e.down = RandomBf16(static_cast<size_t>(E * hidden * I), 42, -0.2f, 0.2f);
  e.gate_up_d = ToDevice(be, e.gate_up, DType::kBF16, Shape{E * 2 * I, hidden});
  e.down_d = ToDevice(be, e.down, DType::kBF16, Shape{E * hidden, I});
  return e;
}

std::vector<float> RefExperts(const std::vector<float>& x, const std::vector<int32_t>& ids,
                              const std::vector<float>& weights, const Experts& e, const MoeShape& s, int64_t hidden) {
  const int64_t n = static_cast<int64_t>(x.size()) / hidden;
  std::vector<float> out(static_cast<size_t>(n * hidden));
  kernels::MoeParams p;
  p.x = x.data();
  p.n = n;
  p.hidden = hidden;
  p.inter = s.inter;
  p.ids = ids.data();
  p.weights = weights.data();
  p.k = s.top_k;
  p.num_experts = s.num_experts;
  p.gate_up = e.gate_up.data();
  p.down = e.down.data();
  p.act = s.act;
  p.out = out.data();
  kernels::ref::Moe(p);
  return out;
}

TEST_P(CudaMoeP, ExpertsEqualReference) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  for (GateAct act : {GateAct::kSilu, GateAct::kGeluTanh}) {
    for (auto [hidden, inter] : {std::pair<int64_t, int64_t>{64, 32}, {256, 96}}) {
      MoeShape s;
      s.num_experts = 8;
      s.top_k = 3;
      s.inter = inter;
      s.act = act;
      ASSERT_TRUE(be.CheckMoe(s).ok());
      const Experts e = MakeExperts(be, s, hidden);
      for (int64_t n : {1, 5, 33}) {
        const std::vector<float> x = Input(static_cast<size_t>(n * hidden), 43);
        const std::vector<float> logits = Random(static_cast<size_t>(n * s.num_experts), 44, -2.0f, 2.0f);
        Routed r = RouteOnDevice(be, logits, s, nullptr);
        TensorView scratch = Poisoned(be, Act(), Shape{n * s.top_k, inter});
        TensorView out = Poisoned(be, Act(), Shape{n, hidden});
        be.MoeExperts(ToDevice(be, x, Act(), Shape{n, hidden}), r.ids, r.weights, e.gate_up_d, e.down_d, s, scratch,
                      out, n / 2);
        const std::vector<float> want = RefExperts(x, IdsToHost(be, r.ids), ToHost(be, r.weights), e, s, hidden);
        EXPECT_LT(RelError(ToHost(be, out), want), F32() ? kF32Tol : kBf16Tol)
            << GateActName(act) << " hidden " << hidden << " inter " << inter << " n " << n;
      }
    }
  }
}

TEST_P(CudaMoeP, ExpertRowsAreBatchInvariant) {
  AX_REQUIRE_CUDA();
  Backend& be = Be();
  const int64_t hidden = 128, n = 9;
  MoeShape s;
  s.num_experts = 4;  // few experts: rows share them
  s.top_k = 2;
  s.inter = 64;
  const Experts e = MakeExperts(be, s, hidden);
  const std::vector<float> x = Input(static_cast<size_t>(n * hidden), 51);
  const std::vector<float> logits = Random(static_cast<size_t>(n * s.num_experts), 52, -2.0f, 2.0f);
  auto run = [&](int64_t first, int64_t rows, int64_t prompt_rows) {
    const std::vector<float> xs(x.begin() + first * hidden, x.begin() + (first + rows) * hidden);
    const std::vector<float> ls(logits.begin() + first * s.num_experts, logits.begin() + (first + rows) * s.num_experts);
    Routed r = RouteOnDevice(be, ls, s, nullptr);
    TensorView out = Poisoned(be, Act(), Shape{rows, hidden});
    be.MoeExperts(ToDevice(be, xs, Act(), Shape{rows, hidden}), r.ids, r.weights, e.gate_up_d, e.down_d, s,
                  Poisoned(be, Act(), Shape{rows * s.top_k, s.inter}), out, prompt_rows);
    return ToHost(be, out);
  };
  // Each row class on its own: generated rows (per row) and prompt rows (grouped per
  // expert); a step that mixes them gives each row its class's bits.
  const std::vector<float> generated = run(0, n, 0), prompt = run(0, n, n), mixed = run(0, n, 4);
  const auto row = [&](const std::vector<float>& v, int64_t r) {
    return std::vector<float>(v.begin() + r * hidden, v.begin() + (r + 1) * hidden);
  };
  for (int64_t r = 0; r < n; ++r) EXPECT_EQ(row(mixed, r), row(r < 4 ? prompt : generated, r)) << "mixed, row " << r;
  for (int64_t first : {0, 4, 8}) {
    EXPECT_EQ(run(first, 1, 0), row(generated, first)) << "generated row " << first << " alone";
    EXPECT_EQ(run(first, 1, 1), row(prompt, first)) << "prompt row " << first << " alone";
  }
  const std::vector<float> three = run(2, 3, 3);  // rows 2..4 as a 3-row prompt chunk
  for (int64_t r = 0; r < 3; ++r) EXPECT_EQ(row(three, r), row(prompt, 2 + r)) << "prompt chunk, row " << 2 + r;
}

TEST(CudaMoe, QuantizedExpertsAreRefusedAtLoad) {
  AX_REQUIRE_CUDA();
  MoeShape s;
  s.num_experts = 8;
  s.top_k = 2;
  s.inter = 64;
  s.weights = DType::kAffine;
  const Status st = Cuda()->CheckMoe(s);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.ToString().find("quantized"), std::string::npos) << st.ToString();
  s.weights = DType::kBF16;
  s.top_k = 40;
  s.num_experts = 64;
  EXPECT_FALSE(Cuda()->CheckMoe(s).ok());
}

}  // namespace
}  // namespace ax::cuda_testing
