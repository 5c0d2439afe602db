#include "json_fields.h"

#include <cmath>
#include <limits>
#include <sstream>

namespace ax::server {
namespace {

std::string Num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

bool AsInteger(const nlohmann::json& v, int64_t* out) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return false;
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9.0e15) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

}  // namespace

std::string JsonTypeName(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "a number";
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded: break;
  }
  return "an unsupported value";
}

FieldReader::FieldReader(const nlohmann::json& obj, std::string prefix) : obj_(obj), prefix_(std::move(prefix)) {}

void FieldReader::Fail(const ApiError& e) {
  if (!ok_) return;
  ok_ = false;
  error_ = e;
}

void FieldReader::Fail(const std::string& field, const std::string& message) {
  Fail(InvalidField(Path(field), message));
}

bool FieldReader::Has(const char* name) const {
  if (!obj_.is_object()) return false;
  auto it = obj_.find(name);
  return it != obj_.end() && !it->is_null();
}

void FieldReader::Bool(const char* name, bool* out) {
  if (!Ready(name)) return;
  const auto& v = obj_.at(name);
  if (!v.is_boolean()) return Fail(name, "expected true or false, got " + JsonTypeName(v));
  *out = v.get<bool>();
}

void FieldReader::Int(const char* name, int64_t* out, int64_t lo, int64_t hi) {
  if (!Ready(name)) return;
  const auto& v = obj_.at(name);
  int64_t x = 0;
  if (!AsInteger(v, &x)) return Fail(name, "expected an integer, got " + (v.is_number() ? v.dump() : JsonTypeName(v)));
  if (x < lo || x > hi)
    return Fail(name, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
                          std::to_string(x));
  *out = x;
}

void FieldReader::Int(const char* name, int* out, int lo, int hi) {
  int64_t x = *out;
  Int(name, &x, lo, hi);
  *out = static_cast<int>(x);
}

void FieldReader::Double(const char* name, double* out, double lo, double hi, bool lo_open, bool hi_open) {
  if (!Ready(name)) return;
  const auto& v = obj_.at(name);
  if (!v.is_number()) return Fail(name, "expected a number, got " + JsonTypeName(v));
  const double x = v.get<double>();
  const bool below = lo_open ? !(x > lo) : !(x >= lo);
  const bool above = hi_open ? !(x < hi) : !(x <= hi);
  if (below || above) {
    const std::string range = std::string(lo_open ? "(" : "[") + Num(lo) + ", " + Num(hi) + (hi_open ? ")" : "]");
    return Fail(name, "expected a number in " + range + ", got " + Num(x));
  }
  *out = x;
}

void FieldReader::String(const char* name, std::string* out) {
  if (!Ready(name)) return;
  const auto& v = obj_.at(name);
  if (!v.is_string()) return Fail(name, "expected a string, got " + JsonTypeName(v));
  *out = v.get<std::string>();
}

void FieldReader::StringOrList(const char* name, std::vector<std::string>* out, size_t max_items) {
  if (!Ready(name)) return;
  const auto& v = obj_.at(name);
  std::vector<std::string> items;
  if (v.is_string()) {
    items.push_back(v.get<std::string>());
  } else if (v.is_array()) {
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string())
        return Fail(std::string(name) + "[" + std::to_string(i) + "]", "expected a string, got " + JsonTypeName(v[i]));
      items.push_back(v[i].get<std::string>());
    }
  } else {
    return Fail(name, "expected a string or an array of strings, got " + JsonTypeName(v));
  }
  if (items.size() > max_items)
    return Fail(name, "at most " + std::to_string(max_items) + " entries are accepted, got " +
                          std::to_string(items.size()));
  *out = std::move(items);
}

void FieldReader::IntList(const char* name, std::vector<int32_t>* out, size_t max_items) {
  if (!Ready(name)) return;
  const auto& v = obj_.at(name);
  if (!v.is_array()) return Fail(name, "expected an array of integers, got " + JsonTypeName(v));
  if (v.size() > max_items)
    return Fail(name, "at most " + std::to_string(max_items) + " entries are accepted, got " + std::to_string(v.size()));
  std::vector<int32_t> ids;
  for (size_t i = 0; i < v.size(); ++i) {
    int64_t x = 0;
    if (!AsInteger(v[i], &x) || x < 0 || x > std::numeric_limits<int32_t>::max())
      return Fail(std::string(name) + "[" + std::to_string(i) + "]", "expected a non-negative token id, got " + v[i].dump());
    ids.push_back(static_cast<int32_t>(x));
  }
  *out = std::move(ids);
}

void FieldReader::Enum(const char* name, std::string* out, const std::vector<std::string>& allowed) {
  if (!Ready(name)) return;
  const auto& v = obj_.at(name);
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "'" : ", '") + a + "'";
  if (!v.is_string()) return Fail(name, "expected one of " + list + ", got " + JsonTypeName(v));
  const std::string s = v.get<std::string>();
  for (const auto& a : allowed)
    if (s == a) {
      *out = s;
      return;
    }
  Fail(name, "expected one of " + list + ", got '" + s + "'");
}

}  // namespace ax::server
