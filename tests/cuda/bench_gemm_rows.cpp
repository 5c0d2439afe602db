// bench_gemm_rows: device time of the generated-row matmuls of a Qwen3-8B decode step
// (q/k/v group, o with the residual add, gate/up + SiLU, down with the residual add,
// lm_head into f32 logits) at m = 1, 8, 32, 64, 128, 256 generated rows, through the
// Backend interface (throughput_rows = 0). Which kernel serves them is the process's:
// the tensor-core row GEMM by default on sm_90 (wgmma; AX_CUDA_GEMM_ROWS_KERNEL=mma for
// the mma.sync kernel), the GEMV in groups of 8 with AX_CUDA_GEMM_ROWS=0, so
// scripts/device/gemm_rows.sh runs this once per kernel. Each op runs
// back to back `reps` times and the stream is drained once; weights rotate over
// enough copies to exceed the 50 MB L2, so figures are DRAM figures. Prints a table
// and, with --json FILE, one object with every row.
//   usage: bench_gemm_rows [--reps N] [--json FILE]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "cuda/bench_util.h"
#include "tensor/dtype.h"

namespace ax {
namespace {

TensorView Upload(Backend& be, int64_t n, DType dt, const Shape& shape, float value_scale = 0.02f) {
  return bench::Upload(be, n, dt, shape, value_scale, 777u);
}

using bench::TimeOp;

TensorView Rows(TensorView t, int64_t rows) {
  t.shape = Shape{rows, t.shape[1]};
  return t;
}

struct Row {
  std::string op;
  int64_t m;
  double us, bytes;
};

int Run(int reps, const char* json_path) {
  auto created = CreateBackend("cuda", BackendOptions{});
  if (!created.ok()) {
    std::fprintf(stderr, "%s\n", created.status().ToString().c_str());
    return 1;
  }
  Backend& be = **created;
  const int64_t hidden = 4096, inter = 12288, nq = 4096, nkv = 1024, vocab = 151936, max_m = 256;
  const char* env = std::getenv("AX_CUDA_GEMM_ROWS");
  const char* rows_kernel = std::getenv("AX_CUDA_GEMM_ROWS_KERNEL");
  const std::string kernel = env != nullptr && std::strcmp(env, "0") == 0                     ? "gemv"
                             : rows_kernel != nullptr && std::strcmp(rows_kernel, "mma") == 0 ? "gemm_rows_mma"
                                                                                              : "gemm_rows_wgmma";
  TensorView sync = Upload(be, 8, DType::kBF16, Shape{8});
  TensorView xh = Upload(be, max_m * hidden, DType::kBF16, Shape{max_m, hidden}, 1.0f);
  TensorView xi = Upload(be, max_m * inter, DType::kBF16, Shape{max_m, inter}, 1.0f);
  TensorView yh = Upload(be, max_m * hidden, DType::kBF16, Shape{max_m, hidden});
  TensorView yq = Upload(be, max_m * nq, DType::kBF16, Shape{max_m, nq});
  TensorView yk = Upload(be, max_m * nkv, DType::kBF16, Shape{max_m, nkv});
  TensorView yv = Upload(be, max_m * nkv, DType::kBF16, Shape{max_m, nkv});
  TensorView gu = Upload(be, max_m * 2 * inter, DType::kBF16, Shape{max_m, 2 * inter});
  TensorView act = Upload(be, max_m * inter, DType::kBF16, Shape{max_m, inter});
  TensorView logits = Upload(be, max_m * vocab, DType::kF32, Shape{max_m, vocab});

  // Weight copies: at least ~160 MB of each shape, so that rotation defeats the L2.
  auto copies_of = [&](int64_t n, int64_t k) {
    const int c = static_cast<int>(std::max(1.0, std::ceil(160e6 / (2.0 * n * k))));
    std::vector<TensorView> ws;
    for (int i = 0; i < c; ++i) ws.push_back(Upload(be, n * k, DType::kBF16, Shape{n, k}));
    return ws;
  };
  std::vector<std::vector<TensorView>> qkv(4);
  for (auto& w : qkv) {
    w.push_back(Upload(be, nq * hidden, DType::kBF16, Shape{nq, hidden}));
    w.push_back(Upload(be, nkv * hidden, DType::kBF16, Shape{nkv, hidden}));
    w.push_back(Upload(be, nkv * hidden, DType::kBF16, Shape{nkv, hidden}));
  }
  const std::vector<TensorView> wo = copies_of(hidden, nq), wgu = copies_of(2 * inter, hidden),
                                wd = copies_of(hidden, inter), wl = copies_of(vocab, hidden);

  std::vector<Row> rows;
  for (int64_t m : {1, 8, 32, 64, 128, 256}) {
    const int r = std::max(5, m >= 64 ? reps / 4 : reps);
    auto add = [&](const char* op, double bytes, const std::function<void(int)>& fn) {
      rows.push_back({op, m, TimeOp(be, sync, r, fn), bytes});
    };
    const TensorView x = Rows(xh, m);
    add("qkv group 6144x4096", 2.0 * (nq + 2 * nkv) * hidden, [&](int i) {
      const std::vector<TensorView> ys = {Rows(yq, m), Rows(yk, m), Rows(yv, m)};
      be.MatmulGroup(x, qkv[static_cast<size_t>(i) % qkv.size()], ys, 0);
    });
    add("o 4096x4096 +residual", 2.0 * hidden * nq,
        [&](int i) { be.Matmul(Rows(yq, m), wo[static_cast<size_t>(i) % wo.size()], Rows(yh, m), true, 0); });
    add("gate_up+silu 24576x4096", 2.0 * 2 * inter * hidden, [&](int i) {
      be.MatmulGatedAct(x, wgu[static_cast<size_t>(i) % wgu.size()], Rows(gu, m), Rows(act, m), GateAct::kSilu, 0);
    });
    add("down 4096x12288 +residual", 2.0 * hidden * inter,
        [&](int i) { be.Matmul(Rows(xi, m), wd[static_cast<size_t>(i) % wd.size()], Rows(yh, m), true, 0); });
    add("lm_head 151936x4096 f32", 2.0 * vocab * hidden,
        [&](int i) { be.Matmul(x, wl[static_cast<size_t>(i) % wl.size()], Rows(logits, m), false, 0); });
  }

  // One decode step's matmuls: 36 layers of the first four ops, plus lm_head.
  // TFLOP/s: 2 m n k flops, and a bf16 weight is 2 bytes, so flops = m x weight bytes.
  std::printf("kernel %s\n%-28s %5s %10s %9s %10s %9s %8s\n", kernel.c_str(), "op", "m", "us", "TB/s", "ceil us",
              "of ceil", "TFLOP/s");
  for (const Row& r : rows) {
    const double ceil_us = r.bytes / 3.0e12 * 1e6;
    std::printf("%-28s %5lld %10.2f %9.2f %10.2f %8.1f%% %8.1f\n", r.op.c_str(), static_cast<long long>(r.m), r.us,
                r.bytes / r.us / 1e6, ceil_us, 100.0 * ceil_us / r.us, r.bytes * static_cast<double>(r.m) / r.us / 1e6);
  }
  for (int64_t m : {1, 8, 32, 64, 128, 256}) {
    double step = 0, bytes = 0;
    for (const Row& r : rows) {
      if (r.m != m) continue;
      const double times = r.op.rfind("lm_head", 0) == 0 ? 1.0 : 36.0;
      step += times * r.us;
      bytes += times * r.bytes;
    }
    std::printf("step matmuls m=%-4lld %9.1f us (ceiling %7.1f us at 3.0 TB/s) -> %8.0f rows/s\n",
                static_cast<long long>(m), step, bytes / 3.0e12 * 1e6, m / step * 1e6);
  }
  if (json_path != nullptr) {
    FILE* f = std::fopen(json_path, "w");
    if (f == nullptr) return 1;
    std::fprintf(f, "{\"backend\": \"%s\", \"kernel\": \"%s\", \"reps\": %d, \"ceiling_tb_s\": 3.0, \"rows\": [\n",
                 be.Describe().c_str(), kernel.c_str(), reps);
    for (size_t i = 0; i < rows.size(); ++i) {
      std::fprintf(f, "  {\"op\": \"%s\", \"m\": %lld, \"us\": %.3f, \"weight_bytes\": %.0f}%s\n", rows[i].op.c_str(),
                   static_cast<long long>(rows[i].m), rows[i].us, rows[i].bytes, i + 1 < rows.size() ? "," : "");
    }
    std::fprintf(f, "]}\n");
    std::fclose(f);
  }
  return 0;
}

}  // namespace
}  // namespace ax

int main(int argc, char** argv) {
  int reps = 100;
  const char* json = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--json") == 0) json = argv[i + 1];
  }
  return ax::Run(reps, json);
}
