// Small helpers for reading tokenizer.json with nlohmann::json without letting
// its exceptions out: every getter checks the type and returns a Status whose
// message names the field ("tokenizer.json: normalizer.content: expected a string").
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "ax/status.h"

namespace ax::tok {

using Json = nlohmann::json;

// Returns j[name] or nullptr when j is not an object or has no such key.
inline const Json* FindField(const Json& j, const char* name) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(name);
  return it == j.end() ? nullptr : &*it;
}

inline Status TypeError(const std::string& where, const char* expected) {
  return InvalidArgument(where + ": expected " + expected);
}

// Required string field.
inline Status GetString(const Json& j, const char* name, const std::string& where, std::string* out) {
  const Json* f = FindField(j, name);
  if (f == nullptr) return InvalidArgument(where + "." + name + ": missing");
  if (!f->is_string()) return TypeError(where + "." + name, "a string");
  *out = f->get_ref<const std::string&>();
  return Status::Ok();
}

// Optional bool field; absent or null keeps *out.
inline Status GetOptBool(const Json& j, const char* name, const std::string& where, bool* out) {
  const Json* f = FindField(j, name);
  if (f == nullptr || f->is_null()) return Status::Ok();
  if (!f->is_boolean()) return TypeError(where + "." + name, "true or false");
  *out = f->get<bool>();
  return Status::Ok();
}

// Optional non-negative integer field; absent or null keeps *out.
inline Status GetOptUint(const Json& j, const char* name, const std::string& where, uint64_t* out) {
  const Json* f = FindField(j, name);
  if (f == nullptr || f->is_null()) return Status::Ok();
  if (!f->is_number_unsigned() && !(f->is_number_integer() && f->get<int64_t>() >= 0)) {
    return TypeError(where + "." + name, "a non-negative integer");
  }
  *out = f->get<uint64_t>();
  return Status::Ok();
}

// The "type" of a component object.
inline Status GetType(const Json& j, const std::string& where, std::string* out) {
  if (!j.is_object()) return TypeError(where, "an object");
  return GetString(j, "type", where, out);
}

}  // namespace ax::tok
