// Deterministic corruption of a valid safetensors file: the reader must never crash,
// and must return either a store whose every tensor lies inside the file and agrees
// with dtype × shape, or a non-ok Status with a message.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <filesystem>

#include "base/rng.h"
#include "model/json_util.h"
#include "model/safetensors.h"
#include "model_test_util.h"

namespace ax {
namespace {

using test::TempDir;

class Fuzzer {
 public:
  Fuzzer() {
    std::vector<TensorToWrite> ts;
    ts.push_back({"model.embed_tokens.weight", DType::kBF16, {4, 6}, std::vector<uint8_t>(48, 0x3f)});
    ts.push_back({"model.norm.weight", DType::kF32, {6}, std::vector<uint8_t>(24, 0x40)});
    ts.push_back({"model.layers.0.mlp.up_proj.weight", DType::kF16, {3, 6}, std::vector<uint8_t>(36, 0x3c)});
    ts.push_back({"z.empty", DType::kF32, {0}, {}});
    EXPECT_TRUE(WriteSafetensors(path_, ts, {{"format", "pt"}}).ok());
    valid_ = test::ReadFile(path_);
    std::memcpy(&header_len_, valid_.data(), 8);
    header_ = Json::parse(valid_.substr(8, header_len_));
    data_ = valid_.substr(8 + header_len_);
  }

  // Opens `bytes` as a file and checks the invariants. Returns whether it loaded.
  bool Check(const std::string& bytes) {
    // A new file each time: truncating a just-written file makes ext4 flush it to disk.
    std::filesystem::remove(path_);
    test::WriteFile(path_, bytes);
    auto store = WeightStore::OpenFile(path_);
    ++runs_;
    if (!store.ok()) {
      EXPECT_FALSE(store.status().message().empty());
      EXPECT_NE(store.status().message().find(path_), std::string::npos) << store.status().message();
      return false;
    }
    // Oracle: every loaded tensor's bytes are the file's bytes at 8 + N + begin.
    uint64_t n = 0;
    std::memcpy(&n, bytes.data(), 8);
    const Json header = Json::parse(bytes.substr(8, n));
    uint64_t sum = 0;
    for (const auto& [name, t] : store->tensors()) {
      EXPECT_EQ(t.nbytes, static_cast<size_t>(t.shape.numel()) * DTypeSize(t.dtype)) << name;
      const uint64_t begin = header.at(name).at("data_offsets").at(0).get<uint64_t>();
      EXPECT_LE(8 + n + begin + t.nbytes, bytes.size()) << name;
      if (t.nbytes > 0 && 8 + n + begin + t.nbytes <= bytes.size()) {
        EXPECT_EQ(std::memcmp(t.data, bytes.data() + 8 + n + begin, t.nbytes), 0) << name;
      }
      const auto* p = static_cast<const uint8_t*>(t.data);
      for (size_t i = 0; i < t.nbytes; ++i) sum += p[i];  // touches every byte (ASan/valgrind/SIGSEGV)
    }
    sums_ += sum;
    return true;
  }

  std::string Image(const Json& header) const {
    const std::string h = header.dump(-1, ' ', false, Json::error_handler_t::replace);
    return test::SafetensorsImage(h, data_);
  }

  const std::string& valid() const { return valid_; }
  uint64_t header_len() const { return header_len_; }
  const Json& header() const { return header_; }
  const std::string& data() const { return data_; }
  int runs() const { return runs_; }

 private:
  TempDir dir_;
  std::string path_ = dir_ / "fuzz.safetensors";
  std::string valid_;
  uint64_t header_len_ = 0;
  Json header_;
  std::string data_;
  int runs_ = 0;
  uint64_t sums_ = 0;
};

uint64_t Rand(uint64_t stream, uint64_t i, uint64_t draw = 0) { return CounterRandom(0xf022, stream * 1000003 + i, draw); }

TEST(SafetensorsFuzz, ValidFileLoads) {
  Fuzzer fz;
  EXPECT_TRUE(fz.Check(fz.valid()));
}

TEST(SafetensorsFuzz, Truncations) {
  Fuzzer fz;
  const size_t limit = std::min<size_t>(fz.valid().size(), 400);
  for (size_t len = 0; len < limit; ++len) {
    EXPECT_FALSE(fz.Check(fz.valid().substr(0, len))) << len;
  }
  // Truncating the data region is always detected (offsets past the end).
  for (size_t cut = 1; cut <= fz.data().size(); cut += 7) {
    EXPECT_FALSE(fz.Check(fz.valid().substr(0, fz.valid().size() - cut))) << cut;
  }
}

TEST(SafetensorsFuzz, HeaderByteFlips) {
  Fuzzer fz;
  const size_t span = 8 + fz.header_len();
  for (uint64_t i = 0; i < 10000; ++i) {
    std::string b = fz.valid();
    const int flips = 1 + static_cast<int>(Rand(1, i) % 3);
    for (int k = 0; k < flips; ++k) {
      const size_t pos = Rand(2, i, k) % span;
      const uint64_t r = Rand(3, i, k);
      b[pos] = (r & 1) ? static_cast<char>(r >> 8) : static_cast<char>(b[pos] ^ (1 << ((r >> 8) % 8)));
    }
    fz.Check(b);
  }
}

TEST(SafetensorsFuzz, LengthFields) {
  Fuzzer fz;
  const uint64_t n = fz.header_len(), size = fz.valid().size();
  std::vector<uint64_t> lengths = {0, 1, 2, 7, 8, n - 1, n + 1, n + 8, size - 8, size - 7, size, size + 1,
                                   100'000'001, 1ull << 31, 1ull << 32, 1ull << 63, ~0ull, ~0ull - 7,
                                   0x8000000000000000ull + n};
  for (uint64_t i = 0; i < 200; ++i) lengths.push_back(Rand(4, i) % (2 * size));
  for (uint64_t len : lengths) {
    std::string b = fz.valid();
    for (int k = 0; k < 8; ++k) b[k] = static_cast<char>((len >> (8 * k)) & 0xff);
    const bool ok = fz.Check(b);
    // Longer headers swallow data bytes (not JSON); shorter ones cut the JSON (a cut
    // of only the padding spaces leaves a valid file with shifted data).
    if (len > n || len + 8 < n) {
      EXPECT_FALSE(ok) << len;
    }
  }
}

// Structural edits of the parsed header, re-serialised with a correct length.
Json Mutate(const Json& base, uint64_t i, const std::string& data) {
  Json h = base;
  std::vector<std::string> names;
  for (auto it = h.begin(); it != h.end(); ++it)
    if (it.key() != "__metadata__") names.push_back(it.key());
  const std::string& a = names[Rand(5, i) % names.size()];
  const std::string& b = names[Rand(6, i) % names.size()];
  const uint64_t big = data.size() + 1 + Rand(7, i) % 64;
  const std::vector<Json> junk = {nullptr, -1, 1.5, "x", Json::array(), Json::object(), true, 1ull << 63,
                                  Json::array({-1, 5}), Json::array({1, 2, 3})};
  const Json& j = junk[Rand(8, i) % junk.size()];
  static const char* kDTypes[] = {"F64", "I8", "F8_E4M3", "", "f32", "BF16", "F16", "F32", "I32", "U8", "BOOL"};
  try {  // an earlier edit may have made h[a] a non-object: nlohmann throws, skip the edit
  switch (Rand(9, i) % 12) {
    case 0: h[a]["data_offsets"][1] = big; break;                             // past the end
    case 1: h[a]["data_offsets"] = {big, big + 4}; break;
    case 2: h[a]["data_offsets"] = h[b]["data_offsets"]; break;               // overlap / duplicate
    case 3: std::swap(h[a]["data_offsets"], h[b]["data_offsets"]); break;     // swapped
    case 4: h[a]["data_offsets"] = {h[a]["data_offsets"][1], h[a]["data_offsets"][0]}; break;  // reversed
    case 5: h[a]["dtype"] = kDTypes[Rand(10, i) % 11]; break;
    case 6: h[a]["shape"] = Json::array({Rand(11, i) % 9, Rand(12, i) % 9}); break;
    case 7: h[a]["shape"].push_back(Rand(13, i) % 3); break;
    case 8: h[a][std::vector<const char*>{"dtype", "shape", "data_offsets"}[Rand(14, i) % 3]] = j; break;
    case 9: h[a].erase(std::vector<const char*>{"dtype", "shape", "data_offsets"}[Rand(15, i) % 3]); break;
    case 10: h["__metadata__"] = j; break;
    case 11: h[a] = j; break;
  }
  } catch (const Json::exception&) {
  }
  return h;
}

TEST(SafetensorsFuzz, StructuralEdits) {
  Fuzzer fz;
  int loaded = 0;
  for (uint64_t i = 0; i < 5000; ++i) {
    Json h = Mutate(fz.header(), i, fz.data());
    if (Rand(16, i) % 4 == 0) h = Mutate(h, i + 100000, fz.data());  // two edits
    loaded += fz.Check(fz.Image(h)) ? 1 : 0;
  }
  // Some edits are harmless (e.g. swapping equal-size ranges); most are caught.
  std::printf("structural edits: %d of 5000 still load\n", loaded);
  EXPECT_GT(loaded, 0);
  EXPECT_LT(loaded, 2500);
}

}  // namespace
}  // namespace ax
