// --precision: parsing, and which backend serves which precision. The CPU backend
// computes in f32 only, so "bf16" is an error that names the option; "auto" gives f32
// activations and a bf16 KV cache, "f32" f32 for both. (The CUDA side runs in tests/cuda.)
#include <gtest/gtest.h>

#include "backend/backend.h"

namespace ax {
namespace {

TEST(Precision, ParsesTheThreeNamesAndNamesTheFieldOnError) {
  for (Precision p : {Precision::kAuto, Precision::kBF16, Precision::kF32}) {
    auto r = ParsePrecision(PrecisionName(p), "precision");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, p);
  }
  auto bad = ParsePrecision("fp16", "--precision");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("--precision 'fp16'"), std::string::npos) << bad.status().message();
  EXPECT_NE(bad.status().message().find("auto, bf16, f32"), std::string::npos);
}

TEST(Precision, CpuBackendIsF32AndRefusesBf16) {
  for (Precision p : {Precision::kAuto, Precision::kF32}) {
    BackendOptions opts;
    opts.precision = p;
    auto be = CreateBackend("cpu", opts);
    ASSERT_TRUE(be.ok()) << be.status().ToString();
    EXPECT_EQ((*be)->activation_dtype(), DType::kF32);
    EXPECT_EQ((*be)->kv_dtype(), p == Precision::kF32 ? DType::kF32 : DType::kBF16);
  }
  BackendOptions opts;
  opts.precision = Precision::kBF16;
  auto be = CreateBackend("cpu", opts);
  ASSERT_FALSE(be.ok());
  EXPECT_EQ(be.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(be.status().message().find("precision 'bf16'"), std::string::npos) << be.status().message();
}

}  // namespace
}  // namespace ax
