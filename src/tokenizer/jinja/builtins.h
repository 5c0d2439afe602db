// The library the evaluator calls into: filters (filters.cpp, filters_seq.cpp), tests
// (tests.cpp), methods of str/dict/list (methods.cpp), global functions (globals.cpp)
// and JSON conversion (json.cpp). Internal to the jinja module.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja/interpreter.h"
#include "tokenizer/jinja/value.h"

namespace ax::jinja {

// `v | name(args)`. REQUIRES: IsKnownFilter(name) (the parser checks).
Value ApplyFilter(Interpreter& interp, std::string_view name, const Value& v, const CallArgs& args);
// Filters on sequences (sort, map, select, unique, ...); nullptr-free Value when
// name is not one of them: returns false.
bool ApplySequenceFilter(Interpreter& interp, std::string_view name, const Value& v, const CallArgs& args,
                         Value* out);
// `v is name(args)`. REQUIRES: IsKnownTest(name).
bool ApplyTest(Interpreter& interp, std::string_view name, const Value& v, const CallArgs& args);

// A bound method of str, dict or list (`"a".upper`, `d.items`); Undefined when the type
// has no such method.
Value GetMethod(const Value& obj, const std::string& name);
// Dict attributes that are methods in Python and shadow keys of the same name.
bool IsDictMethodName(std::string_view name);

// Adds range, namespace, dict, raise_exception, strftime_now, cycler-free builtins.
void InstallGlobals(Frame* globals);

// Python int(), float() conversions of template values (for |int, |float).
bool ParseIntLiteral(std::string_view s, int base, int64_t* out);
bool ParseFloatLiteral(std::string_view s, double* out);

// Python's "fmt % args" for str.
std::string PercentFormat(const std::string& fmt, const Value& args);

// JSON in and out. Objects keep their key order (parse with nlohmann::ordered_json).
Value FromJson(const nlohmann::ordered_json& j);
struct JsonOptions {
  int indent = -1;             // < 0: single line; >= 0: newline + indent spaces per level
  std::string indent_string;   // used instead of spaces when non-empty
  bool ensure_ascii = false;
  bool sort_keys = false;
  std::optional<std::string> item_separator;  // default: ", " single line, "," indented
  std::string key_separator = ": ";
};
// Python's json.dumps(v, ...) (transformers' tojson filter). Throws for values JSON
// cannot hold (undefined, macros, namespaces).
std::string ToJson(const Value& v, const JsonOptions& options);

}  // namespace ax::jinja
