// safetensors reading (mmap + header validation) and writing.
#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <set>

#include "model/json_util.h"

namespace ax {

namespace fs = std::filesystem;

struct WeightStore::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr) ::munmap(addr, size);
  }
};

namespace {

// Safetensors dtypes we recognise but do not load.
bool IsKnownUnsupportedDType(const std::string& s) {
  static const char* kNames[] = {"F64", "I8", "U8", "I16", "U16", "U32", "I64", "U64", "BOOL",
                                 "F8_E4M3", "F8_E5M2", "F8_E8M0", "E8M0", "F4", "F6_E2M3",
                                 "F6_E3M2", "C64"};
  return std::any_of(std::begin(kNames), std::end(kNames), [&](const char* n) { return s == n; });
}

std::string Range(uint64_t b, uint64_t e) {
  std::string s = "[";  // appended piecewise: GCC 12 -O3 warns (-Wrestrict) on "[" + to_string(..)
  s += std::to_string(b);
  s += ", ";
  s += std::to_string(e);
  s += "]";
  return s;
}

// One header entry → TensorEntry (data pointer set by the caller).
// `where` is "<path>: tensor '<name>'".
Status ParseEntry(const Json& v, const std::string& where, uint64_t data_size, TensorEntry* t,
                  uint64_t* begin, uint64_t* end) {
  if (!v.is_object()) return DataLoss(where + ": expected an object, got " + JsonPreview(v));
  const auto field = [&](const char* k) -> const Json* {
    auto it = v.find(k);
    return it == v.end() ? nullptr : &*it;
  };
  const auto bad = [&](const char* k, const char* expected) {
    const Json* j = field(k);
    return DataLoss(where + ": field '" + k + "': expected " + expected +
                    (j ? ", got " + JsonPreview(*j) : ", but it is missing"));
  };
  const Json* dt = field("dtype");
  if (!dt || !dt->is_string()) return bad("dtype", "a dtype string");
  const std::string dts = dt->get<std::string>();
  if (!ParseDType(dts, &t->dtype)) {
    if (IsKnownUnsupportedDType(dts))
      return Unimplemented(where + ": dtype " + dts + " is not supported (supported: F32, F16, BF16, I32)");
    return DataLoss(where + ": unknown dtype '" + dts + "'");
  }
  const Json* sh = field("shape");
  if (!sh || !sh->is_array()) return bad("shape", "a list of dimensions");
  if (sh->size() > static_cast<size_t>(kMaxDims))
    return Unimplemented(where + ": " + std::to_string(sh->size()) + " dimensions, at most " +
                         std::to_string(kMaxDims) + " are supported");
  uint64_t bytes = DTypeSize(t->dtype);
  t->shape = Shape();
  for (const Json& d : *sh) {
    uint64_t n = 0;
    if (!JsonToUint64(d, &n) || n > static_cast<uint64_t>(INT64_MAX))
      return bad("shape", "non-negative integer dimensions");
    t->shape.dims[t->shape.ndim++] = static_cast<int64_t>(n);
    if (__builtin_mul_overflow(bytes, n, &bytes))
      return DataLoss(where + ": shape " + JsonPreview(*sh) + " overflows 64-bit byte counts");
  }
  const Json* off = field("data_offsets");
  if (!off || !off->is_array() || off->size() != 2 || !JsonToUint64((*off)[0], begin) ||
      !JsonToUint64((*off)[1], end))
    return bad("data_offsets", "[begin, end] with non-negative integers");
  if (*end < *begin) return DataLoss(where + ": data_offsets " + Range(*begin, *end) + " end before they begin");
  if (*end > data_size)
    return DataLoss(where + ": data_offsets " + Range(*begin, *end) + " run past the data region (" +
                    std::to_string(data_size) + " bytes)");
  if (*end - *begin != bytes)
    return DataLoss(where + ": data_offsets " + Range(*begin, *end) + " hold " + std::to_string(*end - *begin) +
                    " bytes, expected " + std::to_string(bytes) + " for " + DTypeName(t->dtype) + " " +
                    t->shape.ToString());
  t->nbytes = static_cast<size_t>(bytes);
  return Status::Ok();
}

struct Placed {
  uint64_t begin, end;
  size_t index;  // into the entry vector
};

// Validates a whole file image and appends its tensors to *out.
Status ParseImage(const uint8_t* base, uint64_t size, const std::string& path, std::vector<TensorEntry>* out,
                  std::map<std::string, std::string>* metadata) {
  if (size < 8)
    return DataLoss(path + ": file is " + std::to_string(size) + " bytes, smaller than the 8-byte header length");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | base[i];
  if (n > size - 8)
    return DataLoss(path + ": header length " + std::to_string(n) + " exceeds file size " + std::to_string(size));
  if (n > kMaxSafetensorsHeaderBytes)
    return DataLoss(path + ": header length " + std::to_string(n) + " exceeds the limit of " +
                    std::to_string(kMaxSafetensorsHeaderBytes) + " bytes");
  const std::string_view text(reinterpret_cast<const char*>(base + 8), n);
  AX_ASSIGN_OR_RETURN(Json header, ParseJson(text, path + ": header", StatusCode::kDataLoss, 8));
  if (!header.is_object()) return DataLoss(path + ": header: expected a JSON object, got " + JsonPreview(header));
  const uint64_t data_size = size - 8 - n;
  const uint8_t* data = base + 8 + n;
  std::vector<Placed> placed;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (!it->is_object()) return DataLoss(path + ": __metadata__: expected an object, got " + JsonPreview(*it));
      for (auto m = it->begin(); m != it->end(); ++m) {
        if (!m->is_string())
          return DataLoss(path + ": __metadata__: field '" + m.key() + "': expected a string, got " + JsonPreview(*m));
        metadata->emplace(m.key(), m->get<std::string>());
      }
      continue;
    }
    TensorEntry t;
    t.name = it.key();
    t.file = path;
    uint64_t begin = 0, end = 0;
    AX_RETURN_IF_ERROR(ParseEntry(*it, path + ": tensor '" + t.name + "'", data_size, &t, &begin, &end));
    t.data = data + begin;
    // Zero-byte tensors occupy no range and cannot overlap anything.
    if (end > begin) placed.push_back({begin, end, out->size()});
    out->push_back(std::move(t));
  }
  // Sorted by begin (then name, as the header is), each range must start at or after
  // the end of the previous one.
  std::sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.index < b.index;
  });
  for (size_t i = 1; i < placed.size(); ++i) {
    const Placed& a = placed[i - 1];
    const Placed& b = placed[i];
    if (b.begin < a.end)
      return DataLoss(path + ": tensors '" + (*out)[a.index].name + "' and '" + (*out)[b.index].name +
                      "' overlap: data_offsets " + Range(a.begin, a.end) + " and " + Range(b.begin, b.end));
  }
  return Status::Ok();
}

bool IsFile(const std::string& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

Status WriteAll(int fd, const void* p, size_t n, const std::string& path) {
  const auto* c = static_cast<const char*>(p);
  while (n > 0) {
    const ssize_t w = ::write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return InvalidArgument(path + ": write failed: " + std::strerror(errno));
    c += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

}  // namespace

WeightStore::WeightStore() = default;
WeightStore::~WeightStore() = default;
WeightStore::WeightStore(WeightStore&&) noexcept = default;
WeightStore& WeightStore::operator=(WeightStore&&) noexcept = default;

Status WeightStore::AddFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound(path + ": no such file");
    return InvalidArgument(path + ": cannot open: " + std::strerror(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(path + ": not a regular file");
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 8) {
    ::close(fd);
    return DataLoss(path + ": file is " + std::to_string(size) + " bytes, smaller than the 8-byte header length");
  }
  void* addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_err = errno;
  ::close(fd);
  if (addr == MAP_FAILED) return InvalidArgument(path + ": mmap failed: " + std::strerror(map_err));
  auto mapping = std::make_unique<Mapping>();
  mapping->addr = addr;
  mapping->size = size;
  ::madvise(addr, size, MADV_WILLNEED);
  std::vector<TensorEntry> entries;
  AX_RETURN_IF_ERROR(ParseImage(static_cast<const uint8_t*>(addr), size, path, &entries, &metadata_));
  for (TensorEntry& t : entries) {
    auto it = tensors_.find(t.name);
    if (it != tensors_.end())
      return DataLoss(path + ": tensor '" + t.name + "' also appears in " + it->second.file);
    tensors_.emplace(t.name, std::move(t));
  }
  mappings_.push_back(std::move(mapping));
  files_.push_back(path);
  return Status::Ok();
}

Result<WeightStore> WeightStore::OpenFile(const std::string& path) {
  WeightStore store;
  AX_RETURN_IF_ERROR(store.AddFile(path));
  return store;
}

Result<WeightStore> WeightStore::OpenDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return NotFound(dir + ": no such directory");
  const std::string index_path = (fs::path(dir) / "model.safetensors.index.json").string();
  if (!IsFile(index_path)) {
    const std::string single = (fs::path(dir) / "model.safetensors").string();
    if (!IsFile(single)) return NotFound(dir + ": neither model.safetensors nor model.safetensors.index.json exists");
    return OpenFile(single);
  }
  AX_ASSIGN_OR_RETURN(Json index, ReadJsonFile(index_path));
  auto wm = index.is_object() ? index.find("weight_map") : index.end();
  if (!index.is_object() || wm == index.end() || !wm->is_object() || wm->empty())
    return DataLoss(index_path + ": expected an object with a non-empty 'weight_map' object");
  // shard file name → first tensor that names it (for messages)
  std::map<std::string, std::string> shards;
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    if (!it->is_string())
      return DataLoss(index_path + ": weight_map: tensor '" + it.key() + "': expected a file name, got " +
                      JsonPreview(*it));
    const std::string shard = it->get<std::string>();
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..")
      return DataLoss(index_path + ": weight_map: tensor '" + it.key() + "': '" + shard +
                      "' is not a file name in the model directory");
    shards.emplace(shard, it.key());
  }
  WeightStore store;
  for (const auto& [shard, tensor] : shards) {
    const std::string path = (fs::path(dir) / shard).string();
    Status s = store.AddFile(path);
    if (s.code() == StatusCode::kNotFound)
      return NotFound(path + ": no such file (listed in " + index_path + " for tensor '" + tensor + "')");
    AX_RETURN_IF_ERROR(s);
  }
  for (auto it = wm->begin(); it != wm->end(); ++it) {
    const std::string path = (fs::path(dir) / it->get<std::string>()).string();
    auto t = store.tensors_.find(it.key());
    if (t == store.tensors_.end() || t->second.file != path)
      return DataLoss(index_path + ": tensor '" + it.key() + "' is mapped to " + path +
                      (t == store.tensors_.end() ? ", which does not contain it"
                                                 : ", but it is in " + t->second.file));
  }
  return store;
}

std::string WeightStore::Source() const {
  if (files_.size() == 1) return files_[0];
  if (files_.empty()) return "<empty weight store>";
  return fs::path(files_[0]).parent_path().string() + " (" + std::to_string(files_.size()) + " shards)";
}

const TensorEntry* WeightStore::Find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

Result<const TensorEntry*> WeightStore::Get(const std::string& name, const Shape& expected, bool packed) const {
  const TensorEntry* t = Find(name);
  if (!t) return NotFound(name + ": tensor not found (in " + Source() + ")");
  const bool is_float = t->dtype == DType::kF32 || t->dtype == DType::kF16 || t->dtype == DType::kBF16;
  if (packed ? t->dtype != DType::kU32 : !is_float)
    return InvalidArgument(name + ": dtype " + DTypeName(t->dtype) + ", expected " +
                           (packed ? "U32 (packed quantized codes)" : "F32, F16 or BF16") + " (in " + t->file + ")");
  if (!(t->shape == expected))
    return InvalidArgument(name + ": shape " + t->shape.ToString() + ", expected " + expected.ToString() + " (in " +
                           t->file + ")");
  return t;
}

size_t WeightStore::total_bytes() const {
  size_t n = 0;
  for (const auto& [name, t] : tensors_) n += t.nbytes;
  return n;
}

std::string ShardFileName(size_t i, size_t n) {
  if (n == 1) return "model.safetensors";
  char buf[64];
  std::snprintf(buf, sizeof(buf), "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

Status RemoveSafetensorsFiles(const std::string& dir_path) {
  const fs::path dir(dir_path);
  std::error_code ec;
  std::vector<fs::path> stale;
  fs::directory_iterator it(dir, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n == "model.safetensors" || n == "model.safetensors.index.json" ||
        (n.rfind("model-", 0) == 0 && n.find("-of-") != std::string::npos &&
         (n.ends_with(".safetensors") || n.ends_with(".safetensors.tmp"))))
      stale.push_back(it->path());
  }
  if (ec) return InvalidArgument(dir.string() + ": cannot list: " + ec.message());
  for (const fs::path& p : stale)
    if (!fs::remove(p, ec)) return InvalidArgument(p.string() + ": cannot remove stale weights: " + ec.message());
  return Status::Ok();
}

Result<SafetensorsLayout> PlanSafetensors(const std::vector<TensorSpec>& specs,
                                          const std::map<std::string, std::string>& metadata) {
  std::vector<size_t> order(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const size_t sa = DTypeSize(specs[a].dtype), sb = DTypeSize(specs[b].dtype);
    return sa != sb ? sa > sb : specs[a].name < specs[b].name;
  });
  Json header = Json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  SafetensorsLayout layout;
  layout.offsets.resize(specs.size());
  std::vector<uint64_t> rel(specs.size());
  uint64_t pos = 0;
  for (size_t i : order) {
    const TensorSpec& s = specs[i];
    if (s.name.empty() || s.name == "__metadata__")
      return InvalidArgument("tensor name '" + s.name + "' cannot be written");
    if (header.contains(s.name)) return InvalidArgument("tensor '" + s.name + "' is listed twice");
    Json shape = Json::array();
    for (int d = 0; d < s.shape.ndim; ++d) {
      if (s.shape[d] < 0) return InvalidArgument("tensor '" + s.name + "': negative dimension in " + s.shape.ToString());
      shape.push_back(s.shape[d]);
    }
    const uint64_t nbytes = s.nbytes();
    header[s.name] = {{"dtype", DTypeName(s.dtype)}, {"shape", shape}, {"data_offsets", {pos, pos + nbytes}}};
    rel[i] = pos;
    pos += nbytes;
  }
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  const uint64_t n = json.size();
  layout.prefix.resize(8);
  for (int i = 0; i < 8; ++i) layout.prefix[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  layout.prefix += json;
  for (size_t i = 0; i < specs.size(); ++i) layout.offsets[i] = layout.prefix.size() + rel[i];
  layout.file_size = layout.prefix.size() + pos;
  return layout;
}

Status WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata) {
  std::vector<TensorSpec> specs;
  specs.reserve(tensors.size());
  for (const TensorToWrite& t : tensors) specs.push_back({t.name, t.dtype, t.shape});
  auto planned = PlanSafetensors(specs, metadata);
  if (!planned.ok()) return planned.status().WithPrefix(path);
  const SafetensorsLayout& layout = *planned;
  for (size_t i = 0; i < specs.size(); ++i) {
    if (tensors[i].bytes.size() != specs[i].nbytes())
      return InvalidArgument(path + ": tensor '" + specs[i].name + "': " + std::to_string(tensors[i].bytes.size()) +
                             " bytes given, expected " + std::to_string(specs[i].nbytes()) + " for " +
                             DTypeName(specs[i].dtype) + " " + specs[i].shape.ToString());
  }
  std::vector<size_t> order(tensors.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return layout.offsets[a] < layout.offsets[b]; });
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return InvalidArgument(tmp + ": cannot create: " + std::strerror(errno));
  Status s = WriteAll(fd, layout.prefix.data(), layout.prefix.size(), tmp);
  for (size_t i : order) {
    if (!s.ok()) break;
    s = WriteAll(fd, tensors[i].bytes.data(), tensors[i].bytes.size(), tmp);
  }
  if (::close(fd) != 0 && s.ok()) s = InvalidArgument(tmp + ": close failed: " + std::strerror(errno));
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    s = InvalidArgument(path + ": rename from " + tmp + " failed: " + std::strerror(errno));
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

}  // namespace ax
