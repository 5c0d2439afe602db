// FieldReader: typed, range-checked reads of a request's JSON fields. The first error
// sticks (naming the field, e.g. "'top_p': expected a number in (0, 1], got 1.5") and
// later reads do nothing, so a parser is a flat list of reads followed by one ok().
// An absent field or a JSON null leaves the output untouched (the default applies).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "errors.h"

namespace ax::server {

class FieldReader {
 public:
  // `obj` must outlive the reader; `prefix` names it in errors ("messages[2].").
  explicit FieldReader(const nlohmann::json& obj, std::string prefix = "");

  bool ok() const { return ok_; }
  const ApiError& error() const { return error_; }
  void Fail(const ApiError& e);
  void Fail(const std::string& field, const std::string& message);

  // Present and not null.
  bool Has(const char* name) const;
  const nlohmann::json& Get(const char* name) const { return obj_.at(name); }
  std::string Path(const std::string& name) const { return prefix_ + name; }

  void Bool(const char* name, bool* out);
  // Integers; a float with an integral value (2.0) is accepted.
  void Int(const char* name, int64_t* out, int64_t lo, int64_t hi);
  void Int(const char* name, int* out, int lo, int hi);
  // lo_open / hi_open: the bound itself is excluded.
  void Double(const char* name, double* out, double lo, double hi, bool lo_open = false, bool hi_open = false);
  void String(const char* name, std::string* out);
  // A string or a list of strings (OpenAI's `stop`); at most `max_items`.
  void StringOrList(const char* name, std::vector<std::string>* out, size_t max_items);
  void IntList(const char* name, std::vector<int32_t>* out, size_t max_items);
  // The field must be absent, null or equal to one of `allowed` (a string).
  void Enum(const char* name, std::string* out, const std::vector<std::string>& allowed);

 private:
  bool Ready(const char* name) const { return ok_ && Has(name); }
  const nlohmann::json& obj_;
  std::string prefix_;
  bool ok_ = true;
  ApiError error_;
};

// JSON type names for messages: "a string", "an array", ...
std::string JsonTypeName(const nlohmann::json& v);

}  // namespace ax::server
