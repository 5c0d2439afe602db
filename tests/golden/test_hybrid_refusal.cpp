// A backend that has no GatedDelta (the CUDA backend today) refuses a hybrid model at
// load with an error naming the missing feature, before any forward: here the CPU
// backend behind a wrapper that keeps Backend's default CheckGatedDelta, and the model
// test suites' dense fixtures still load through it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "golden/model_harness.h"
#include "model/synth.h"

namespace ax::testing {
namespace {

// Every op forwarded to the CPU backend; GatedDelta, SigmoidMul, RestoreState and
// CheckGatedDelta left as Backend's defaults (a backend without the hybrid ops).
class NoGatedDelta final : public Backend {
 public:
  explicit NoGatedDelta(std::unique_ptr<Backend> b) : b_(std::move(b)) {}
  BackendKind kind() const override { return b_->kind(); }
  std::string Describe() const override { return "no GatedDelta over " + b_->Describe(); }
  DType activation_dtype() const override { return b_->activation_dtype(); }
  DType kv_dtype() const override { return b_->kv_dtype(); }
  Shape KvCacheShape(int64_t n, int bs, int h, int d) const override { return b_->KvCacheShape(n, bs, h, d); }
  Result<TensorView> UploadWeight(const TensorView& host, DType dt) override { return b_->UploadWeight(host, dt); }
  Result<TensorView> UploadConcatRows(const std::vector<TensorView>& parts, DType dt) override {
    return b_->UploadConcatRows(parts, dt);
  }
  Result<TensorView> Alloc(DType dt, const Shape& s) override { return b_->Alloc(dt, s); }
  Status ReadToHost(const TensorView& src, void* dst, size_t bytes) override { return b_->ReadToHost(src, dst, bytes); }
  Status BeginForward(const BatchMeta& m) override { return b_->BeginForward(m); }
  void Embedding(const TensorView& t, float s, TensorView o) override { b_->Embedding(t, s, o); }
  void RmsNorm(const TensorView& x, const TensorView& w, float e, TensorView y) override { b_->RmsNorm(x, w, e, y); }
  void Add(const TensorView& x, TensorView y) override { b_->Add(x, y); }
  void Softcap(TensorView x, float c) override { b_->Softcap(x, c); }
  void Scale(TensorView x, float s) override { b_->Scale(x, s); }
  void Matmul(const TensorView& x, const TensorView& w, TensorView y, bool acc, int64_t rows) override {
    b_->Matmul(x, w, y, acc, rows);
  }
  void ApplyPenalties(TensorView l, int64_t r) override { b_->ApplyPenalties(l, r); }
  void RowMass(const TensorView& x, const TensorView& v, int64_t r, TensorView m) override { b_->RowMass(x, v, r, m); }
  void Rope(TensorView x, int h, int d, const TensorView& f) override { b_->Rope(x, h, d, f); }
  void GatedAct(const TensorView& g, TensorView o, GateAct a) override { b_->GatedAct(g, o, a); }
  void ActMul(const TensorView& g, const TensorView& u, int64_t s, TensorView o, GateAct a) override {
    b_->ActMul(g, u, s, o, a);
  }
  void KvWrite(const TensorView& k, const TensorView& v, const KvLayerView& c, int h, int d) override {
    b_->KvWrite(k, v, c, h, d);
  }
  void Attention(const TensorView& q, const KvLayerView& c, const AttentionShape& s, TensorView o) override {
    b_->Attention(q, c, s, o);
  }
  void RouteTopK(const TensorView& l, const TensorView& s, const TensorView& b, const MoeShape& m, TensorView i,
                 TensorView w) override {
    b_->RouteTopK(l, s, b, m, i, w);
  }
  void MoeExperts(const TensorView& x, const TensorView& i, const TensorView& w, const TensorView& gu,
                  const TensorView& d, const MoeShape& s, TensorView scr, TensorView o, int64_t r) override {
    b_->MoeExperts(x, i, w, gu, d, s, scr, o, r);
  }
  void GatherLogitRows(const TensorView& x, TensorView o, int64_t f) override { b_->GatherLogitRows(x, o, f); }

 private:
  std::unique_ptr<Backend> b_;
};

std::unique_ptr<Backend> Wrapped() {
  BackendOptions o;
  o.threads = 2;
  return std::make_unique<NoGatedDelta>(std::move(CreateBackend("cpu", o).value()));
}

TEST(HybridRefusal, ABackendWithoutGatedDeltaRefusesHybridsAtLoad) {
  for (const char* name : {"tiny-qwen3-next", "tiny-qwen3_5", "tiny-qwen3_5-moe"}) {
    auto be = Wrapped();
    auto m = Model::Load(std::string(AX_FIXTURES_DIR) + "/models/" + name, *be);
    ASSERT_FALSE(m.ok()) << name;
    EXPECT_EQ(m.status().code(), StatusCode::kUnimplemented) << m.status().ToString();
    for (const char* part : {name, "GatedDelta linear attention", "is not implemented on the cpu backend"})
      EXPECT_NE(m.status().message().find(part), std::string::npos) << m.status().message();
  }
  auto be = Wrapped();  // a dense model needs none of it
  EXPECT_TRUE(Model::Load(std::string(AX_FIXTURES_DIR) + "/models/tiny-qwen3-moe", *be).ok());
}

// GLM: a backend without CheckMla (the CUDA backend today) refuses MLA at load, naming
// it, and glm4_moe's noaux_tc router and biases; doctor's features say the same.
TEST(GlmRefusal, ABackendWithoutMlaRefusesGlmAtLoad) {
  const struct {
    const char* shape;
    const char* part;
  } cases[] = {{"tiny-glm4-moe-lite", "multi-head latent attention (MLA"}, {"tiny-glm4-moe", "noaux_tc MoE router"}};
  for (const auto& c : cases) {
    const std::string dir = (std::filesystem::temp_directory_path() /
                             (std::string("ax_refusal_") + c.shape + "_" + std::to_string(getpid())))
                                .string();
    SynthOptions o;
    o.shape = c.shape;
    o.out_dir = dir;
    ASSERT_TRUE(WriteSynthModel(o, nullptr).ok());
    auto be = Wrapped();
    auto m = Model::Load(dir, *be);
    ASSERT_FALSE(m.ok()) << c.shape;
    EXPECT_EQ(m.status().code(), StatusCode::kUnimplemented) << m.status().ToString();
    for (const char* part : {c.part, "not implemented on the cpu backend"})
      EXPECT_NE(m.status().message().find(part), std::string::npos) << m.status().message();
    auto check = Model::Check(dir);
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    bool named = false;
    for (const std::string& f : check->features)
      named = named || f.find("on CUDA is not implemented") != std::string::npos;
    EXPECT_TRUE(named) << c.shape;
    EXPECT_TRUE(check->skipped.empty()) << check->skipped[0];
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace ax::testing
