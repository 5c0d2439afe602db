// JSON in (the render context) and out (the tojson filter, byte-identical to Python's
// json.dumps as transformers calls it: ensure_ascii=False, separators ", " and ": ").
#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/text.h"

namespace ax::jinja {

namespace {

Value FromJsonAt(const nlohmann::ordered_json& j, uint32_t depth);

}  // namespace

Value FromJson(const nlohmann::ordered_json& j) { return FromJsonAt(j, 0); }

namespace {

Value FromJsonAt(const nlohmann::ordered_json& j, uint32_t depth) {
  if (depth >= kMaxValueDepth) throw Error("JSON value nested too deeply");
  using Type = nlohmann::ordered_json::value_t;
  switch (j.type()) {
    case Type::null:
    case Type::discarded:
      return Value::None();
    case Type::boolean:
      return Value::Bool(j.get<bool>());
    case Type::number_integer:
      return Value::Int(j.get<int64_t>());
    case Type::number_unsigned: {
      auto u = j.get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::Int(static_cast<int64_t>(u));
      return Value::Float(static_cast<double>(u));
    }
    case Type::number_float:
      return Value::Float(j.get<double>());
    case Type::string:
      return Value::String(j.get<std::string>());
    case Type::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(FromJsonAt(item, depth + 1));
      return Value::List(std::move(items));
    }
    case Type::object: {
      Dict d;
      for (auto it = j.begin(); it != j.end(); ++it) d.Set(it.key(), FromJsonAt(it.value(), depth + 1));
      return Value::MakeDict(std::move(d));
    }
    case Type::binary:
      break;
  }
  throw Error("unsupported JSON value");
}

void AppendEscape(std::string* out, unsigned code) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "\\u%04x", code & 0xFFFFu);
  *out += buf;
}

std::string JsonString(const std::string& s, bool ensure_ascii) {
  std::string out = "\"";
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    char32_t c = DecodeUtf8(s, &i);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c > 0x7E)) {
      if (c >= 0x10000) {
        char32_t v = c - 0x10000;
        AppendEscape(&out, 0xD800 + static_cast<unsigned>(v >> 10));
        AppendEscape(&out, 0xDC00 + static_cast<unsigned>(v & 0x3FF));
      } else {
        AppendEscape(&out, static_cast<unsigned>(c));
      }
    } else {
      out.append(s, start, i - start);
    }
  }
  return out + "\"";
}

class JsonWriter {
 public:
  explicit JsonWriter(JsonOptions o) : o_(std::move(o)) {
    if (o_.indent >= 0 && o_.indent_string.empty()) o_.indent_string = std::string(static_cast<size_t>(o_.indent), ' ');
    if (!o_.item_separator) o_.item_separator = o_.indent >= 0 ? "," : ", ";
  }

  void Write(const Value& v, int depth, std::string* out) {
    if (depth > 200) throw Error("tojson: value nested too deeply");
    switch (v.kind()) {
      case Kind::kNone: *out += "null"; return;
      case Kind::kBool: *out += v.boolean() ? "true" : "false"; return;
      case Kind::kInt: *out += std::to_string(v.integer()); return;
      case Kind::kFloat: {
        double d = v.number();
        if (d != d) {
          *out += "NaN";
        } else if (d > 1.7976931348623157e308 || d < -1.7976931348623157e308) {
          *out += d > 0 ? "Infinity" : "-Infinity";
        } else {
          *out += FloatRepr(d);
        }
        return;
      }
      case Kind::kString: *out += JsonString(v.str(), o_.ensure_ascii); return;
      case Kind::kList: WriteList(v.list(), depth, out); return;
      case Kind::kDict: WriteDict(v.dict(), depth, out); return;
      case Kind::kUndefined:
      case Kind::kNamespace:
      case Kind::kCallable:
        break;
    }
    std::string type = v.is_undefined() ? "Undefined" : v.kind() == Kind::kNamespace ? "Namespace" : "function";
    throw Error("Object of type " + type + " is not JSON serializable");
  }

 private:
  void Newline(int depth, std::string* out) const {
    *out += '\n';
    for (int i = 0; i < depth; ++i) *out += o_.indent_string;
  }

  void WriteList(const ValueList& items, int depth, std::string* out) {
    if (items.empty()) {
      *out += "[]";
      return;
    }
    *out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) *out += *o_.item_separator;
      if (o_.indent >= 0) Newline(depth + 1, out);
      Write(items[i], depth + 1, out);
    }
    if (o_.indent >= 0) Newline(depth, out);
    *out += ']';
  }

  void WriteDict(const Dict& d, int depth, std::string* out) {
    if (d.empty()) {
      *out += "{}";
      return;
    }
    std::vector<const std::pair<std::string, Value>*> items;
    for (const auto& item : d.items()) items.push_back(&item);
    if (o_.sort_keys) {
      std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
    }
    *out += '{';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) *out += *o_.item_separator;
      if (o_.indent >= 0) Newline(depth + 1, out);
      *out += JsonString(items[i]->first, o_.ensure_ascii);
      *out += o_.key_separator;
      Write(items[i]->second, depth + 1, out);
    }
    if (o_.indent >= 0) Newline(depth, out);
    *out += '}';
  }

  JsonOptions o_;
};

}  // namespace

std::string ToJson(const Value& v, const JsonOptions& options) {
  std::string out;
  JsonWriter(options).Write(v, 0, &out);
  return out;
}

}  // namespace ax::jinja
