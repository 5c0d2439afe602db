// Typed, error-naming reads of config.json fields, shared by config.cpp (the common
// fields) and the architectures' ParseExtras hooks (model/arch).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ax/status.h"
#include "model/json_util.h"

namespace ax {

constexpr int64_t kConfigMaxSize = 2147483647;  // sizes must fit int32 downstream

// Reads typed fields of one JSON object; errors name the file and the dotted field:
//   "<path>: field 'rope_scaling.factor': expected a number > 0, got "2""
class ConfigFields {
 public:
  ConfigFields(const Json& obj, const std::string& path, std::string prefix = "")
      : obj_(obj), path_(path), prefix_(std::move(prefix)) {}

  // The value, or nullptr when the key is absent or null.
  const Json* Find(const char* key) const {
    auto it = obj_.find(key);
    if (it == obj_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  std::string Name(const char* key) const { return prefix_ + key; }
  Status Invalid(const char* key, const std::string& expected, const Json* got) const {
    return InvalidArgument(path_ + ": field '" + Name(key) + "': expected " + expected +
                           (got ? ", got " + JsonPreview(*got) : ", but it is missing"));
  }
  Status Unsupported(const char* key, const std::string& what) const {
    return Unimplemented(path_ + ": field '" + Name(key) + "': " + what);
  }

  // Integer in [lo, hi]; absent/null keeps *out unless required.
  Status Int(const char* key, int64_t* out, bool required, int64_t lo = 1, int64_t hi = kConfigMaxSize) const {
    const Json* j = Find(key);
    const std::string expected = "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    if (!j) return required ? Invalid(key, expected, nullptr) : Status::Ok();
    int64_t v = 0;
    if (!JsonToInt64(*j, &v) || v < lo || v > hi) return Invalid(key, expected, j);
    *out = v;
    return Status::Ok();
  }
  // Finite number > lo (or >= lo when inclusive).
  Status Double(const char* key, double* out, bool required, double lo, bool inclusive = false) const {
    const Json* j = Find(key);
    std::string bound = lo == 0 ? "0" : JsonPreview(Json(lo));
    const std::string expected = std::string("a number ") + (inclusive ? ">= " : "> ") + bound;
    if (!j) return required ? Invalid(key, expected, nullptr) : Status::Ok();
    if (!j->is_number()) return Invalid(key, expected, j);
    const double v = j->get<double>();
    if (!std::isfinite(v) || v < lo || (!inclusive && v == lo)) return Invalid(key, expected, j);
    *out = v;
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) const {
    const Json* j = Find(key);
    if (!j) return Status::Ok();
    if (!j->is_boolean()) return Invalid(key, "true or false", j);
    *out = j->get<bool>();
    return Status::Ok();
  }
  bool IsNull(const char* key) const {
    auto it = obj_.find(key);
    return it != obj_.end() && it->is_null();
  }
  // A token id; an explicit null means "none" (-1).
  Status TokenId(const char* key, int32_t* out) const {
    if (IsNull(key)) *out = -1;
    int64_t v = *out;
    AX_RETURN_IF_ERROR(Int(key, &v, false, 0, kConfigMaxSize));
    *out = static_cast<int32_t>(v);
    return Status::Ok();
  }
  // An int or a list of ints (eos_token_id); null/absent keeps *out.
  Status TokenIds(const char* key, std::vector<int32_t>* out) const {
    if (IsNull(key)) out->clear();
    const Json* j = Find(key);
    if (!j) return Status::Ok();
    const char* expected = "a token id or a list of token ids";
    std::vector<int32_t> ids;
    int64_t v = 0;
    if (j->is_array()) {
      for (const Json& e : *j) {
        if (!JsonToInt64(e, &v) || v < 0 || v > kConfigMaxSize) return Invalid(key, expected, j);
        ids.push_back(static_cast<int32_t>(v));
      }
    } else if (JsonToInt64(*j, &v) && v >= 0 && v <= kConfigMaxSize) {
      ids.push_back(static_cast<int32_t>(v));
    } else {
      return Invalid(key, expected, j);
    }
    *out = std::move(ids);
    return Status::Ok();
  }
  // A string; absent/null keeps *out.
  Status String(const char* key, std::string* out) const {
    const Json* j = Find(key);
    if (!j) return Status::Ok();
    if (!j->is_string()) return Invalid(key, "a string", j);
    *out = j->get<std::string>();
    return Status::Ok();
  }
  const Json& obj() const { return obj_; }
  const std::string& path() const { return path_; }
  const std::string& prefix() const { return prefix_; }

 private:
  const Json& obj_;
  const std::string& path_;
  std::string prefix_;
};

}  // namespace ax
