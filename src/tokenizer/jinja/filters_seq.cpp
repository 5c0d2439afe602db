// Filters over sequences: first/last/list/reverse/join, sort/dictsort/unique/min/max/sum,
// map/select/reject/selectattr/rejectattr, items. Where Jinja2 returns a generator
// (map, select, unique, reverse) we return a list; printing one directly is the only
// visible difference.
#include <algorithm>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/parser.h"
#include "tokenizer/jinja/text.h"

namespace ax::jinja {
namespace {

// Jinja2's make_attrgetter: "a.b.0" walks getitem; ints index lists.
Value GetAttribute(Interpreter& interp, Value item, const Value& attribute) {
  if (attribute.is_none()) return item;
  if (!attribute.is_string()) return interp.GetItem(item, attribute);
  const std::string& path = attribute.str();
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    bool digits = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    item = interp.GetItem(item, digits ? Value::Int(std::atoll(part.c_str())) : Value::String(part));
    if (dot == std::string::npos) return item;
    start = dot + 1;
  }
}

Value IgnoreCase(const Value& v, bool case_sensitive) {
  return !case_sensitive && v.is_string() ? Value::String(PyLower(v.str())) : v;
}

// Key for sort/unique/min/max: attribute(s), then lowercased unless case_sensitive.
Value SortKey(Interpreter& interp, const Value& item, const Value* attribute, bool case_sensitive) {
  if (attribute == nullptr || attribute->is_none()) return IgnoreCase(item, case_sensitive);
  if (attribute->is_string() && attribute->str().find(',') != std::string::npos) {
    ValueList parts;
    const std::string comma = ",";
    for (const std::string& piece : PySplit(attribute->str(), &comma, -1)) {
      parts.push_back(IgnoreCase(GetAttribute(interp, item, Value::String(piece)), case_sensitive));
    }
    return Value::List(std::move(parts));
  }
  return IgnoreCase(GetAttribute(interp, item, *attribute), case_sensitive);
}

bool Flag(const CallArgs& args, size_t i, std::string_view name) {
  const Value* v = args.Get(i, name);
  return v != nullptr && v->Truthy();
}

ValueList Sorted(ValueList items, const ValueList& keys, bool reverse) {
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return reverse ? Compare(keys[b], keys[a]) < 0 : Compare(keys[a], keys[b]) < 0;
  });
  ValueList out;
  out.reserve(items.size());
  for (size_t i : order) out.push_back(std::move(items[i]));
  return out;
}

// select/reject/selectattr/rejectattr.
Value SelectFilter(Interpreter& interp, std::string_view name, const Value& v, const CallArgs& args) {
  bool by_attr = name == "selectattr" || name == "rejectattr";
  bool keep_if = name == "select" || name == "selectattr";
  size_t off = by_attr ? 1 : 0;
  if (by_attr && args.positional.empty()) throw Error(std::string(name) + " needs an attribute name");
  const Value* test = args.positional.size() > off ? &args.positional[off] : nullptr;
  if (test != nullptr && !test->is_string()) throw Error(std::string(name) + ": test name must be a string");
  CallArgs test_args;
  if (test != nullptr) {
    test_args.positional.assign(args.positional.begin() + static_cast<long>(off + 1), args.positional.end());
    test_args.keyword = args.keyword;
  }
  ValueList out;
  for (const Value& item : interp.Iterate(v)) {
    Value probe = by_attr ? GetAttribute(interp, item, args.positional[0]) : item;
    bool pass = test == nullptr ? probe.Truthy() : ApplyTest(interp, test->str(), probe, test_args);
    if (pass == keep_if) out.push_back(item);
  }
  return Value::List(std::move(out));
}

Value MapFilter(Interpreter& interp, const Value& v, const CallArgs& args) {
  ValueList out;
  if (args.positional.empty()) {
    const Value* attribute = args.Kw("attribute");
    if (attribute == nullptr) throw Error("map requires a filter argument");
    const Value* dflt = args.Kw("default");
    for (const Value& item : interp.Iterate(v)) {
      Value got = GetAttribute(interp, item, *attribute);
      out.push_back(got.is_undefined() && dflt != nullptr ? *dflt : got);
    }
    return Value::List(std::move(out));
  }
  if (!args.positional[0].is_string()) throw Error("map: filter name must be a string");
  std::string filter = args.positional[0].str();
  if (!IsKnownFilter(filter)) throw Error("no filter named '" + filter + "'");
  CallArgs rest;
  rest.positional.assign(args.positional.begin() + 1, args.positional.end());
  rest.keyword = args.keyword;
  for (const Value& item : interp.Iterate(v)) out.push_back(ApplyFilter(interp, filter, item, rest));
  return Value::List(std::move(out));
}

Value MinMax(Interpreter& interp, const Value& v, const CallArgs& args, bool want_max) {
  ValueList items = interp.Iterate(v);
  if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  bool case_sensitive = Flag(args, 0, "case_sensitive");
  const Value* attribute = args.Get(1, "attribute");
  size_t best = 0;
  Value best_key = SortKey(interp, items[0], attribute, case_sensitive);
  for (size_t i = 1; i < items.size(); ++i) {
    Value key = SortKey(interp, items[i], attribute, case_sensitive);
    int c = Compare(key, best_key);
    if (want_max ? c > 0 : c < 0) {
      best = i;
      best_key = key;
    }
  }
  return items[best];
}

}  // namespace

bool ApplySequenceFilter(Interpreter& interp, std::string_view name, const Value& v, const CallArgs& args, Value* out) {
  if (name == "first" || name == "last") {
    ValueList items = interp.Iterate(v);
    if (items.empty()) {
      *out = Value::Undefined(name == "first" ? "No first item, sequence was empty." : "No last item, sequence was empty.");
    } else {
      *out = name == "first" ? items.front() : items.back();
    }
  } else if (name == "list") {
    *out = Value::List(interp.Iterate(v));
  } else if (name == "reverse") {
    ValueList items = interp.Iterate(v);
    std::reverse(items.begin(), items.end());
    if (v.is_string()) {
      std::string s;
      for (const Value& c : items) s += c.str();
      *out = Value::String(std::move(s));
    } else {
      *out = Value::List(std::move(items));
    }
  } else if (name == "join") {
    const Value* sep = args.Get(0, "d");
    const Value* attribute = args.Get(1, "attribute");
    std::string s;
    bool first = true;
    for (const Value& item : interp.Iterate(v)) {
      if (!first) s += sep != nullptr ? ToStr(*sep) : "";
      first = false;
      s += ToStr(attribute != nullptr ? GetAttribute(interp, item, *attribute) : item);
      interp.CheckSize(s.size());
    }
    *out = Value::String(std::move(s));
  } else if (name == "sort") {
    ValueList items = interp.Iterate(v);
    bool reverse = Flag(args, 0, "reverse");
    bool case_sensitive = Flag(args, 1, "case_sensitive");
    const Value* attribute = args.Get(2, "attribute");
    ValueList keys;
    for (const Value& item : items) keys.push_back(SortKey(interp, item, attribute, case_sensitive));
    *out = Value::List(Sorted(std::move(items), keys, reverse));
  } else if (name == "dictsort") {
    if (!v.is_dict()) throw Error("dictsort: expected a mapping, got " + TypeName(v));
    bool case_sensitive = Flag(args, 0, "case_sensitive");
    const Value* by = args.Get(1, "by");
    std::string by_s = by != nullptr && by->is_string() ? by->str() : "key";
    if (by_s != "key" && by_s != "value") throw Error("You can only sort by either \"key\" or \"value\"");
    bool reverse = Flag(args, 2, "reverse");
    ValueList items, keys;
    for (const auto& [k, val] : v.dict().items()) {
      items.push_back(Value::Tuple({Value::String(k), val}));
      keys.push_back(IgnoreCase(by_s == "key" ? Value::String(k) : val, case_sensitive));
    }
    *out = Value::List(Sorted(std::move(items), keys, reverse));
  } else if (name == "unique") {
    bool case_sensitive = Flag(args, 0, "case_sensitive");
    const Value* attribute = args.Get(1, "attribute");
    ValueList kept, seen;
    for (const Value& item : interp.Iterate(v)) {
      Value key = SortKey(interp, item, attribute, case_sensitive);
      bool dup = std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return Equals(s, key); });
      if (!dup) {
        seen.push_back(key);
        kept.push_back(item);
      }
    }
    *out = Value::List(std::move(kept));
  } else if (name == "min" || name == "max") {
    *out = MinMax(interp, v, args, name == "max");
  } else if (name == "sum") {
    const Value* attribute = args.Get(0, "attribute");
    const Value* start = args.Get(1, "start");
    Value total = start != nullptr ? *start : Value::Int(0);
    for (const Value& item : interp.Iterate(v)) {
      total = BinaryOp("+", total, attribute != nullptr ? GetAttribute(interp, item, *attribute) : item, interp);
    }
    *out = total;
  } else if (name == "map") {
    *out = MapFilter(interp, v, args);
  } else if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    *out = SelectFilter(interp, name, v, args);
  } else if (name == "items") {
    if (v.is_undefined()) {
      *out = Value::List({});
    } else if (!v.is_dict()) {
      throw Error("Can only get item pairs from a mapping.");
    } else {
      ValueList items;
      for (const auto& [k, val] : v.dict().items()) items.push_back(Value::Tuple({Value::String(k), val}));
      *out = Value::List(std::move(items));
    }
  } else {
    return false;
  }
  return true;
}

}  // namespace ax::jinja
