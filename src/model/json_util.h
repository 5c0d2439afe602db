// JSON helpers shared by the model-file readers (config.json, generation_config.json,
// safetensors headers, model.safetensors.index.json). nlohmann::json is used with its
// exceptions caught here: no exception leaves these functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "ax/status.h"

namespace ax {

using Json = nlohmann::json;

// Reads a whole file. A missing file gives NotFound "<path>: no such file"; other
// failures (a directory, permissions, larger than max_bytes) InvalidArgument naming
// the path and the reason.
Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes = 64u << 20);

// Parses `text` as JSON. Bad JSON gives a Status of `code` naming `path` and the parse
// position: "<path>: invalid JSON: parse error at line 1, column 9: syntax error ...".
// Nesting deeper than `max_depth` is rejected before parsing (bounded memory/stack).
// REQUIRES: nothing; text may hold any bytes (invalid UTF-8 is a parse error).
Result<Json> ParseJson(std::string_view text, const std::string& path,
                       StatusCode code = StatusCode::kInvalidArgument, int max_depth = 64);

// ReadFileToString + ParseJson.
Result<Json> ReadJsonFile(const std::string& path);

// A short rendering of a value for error messages: `"abc"`, `-3`, `[1, 2]` (JSON
// spelling), cut to ~60 characters. Never throws.
std::string JsonPreview(const Json& j);

// Integer readers that accept exactly what a careful reader should:
// JsonToInt64: an integer, or a float with an integral value within ±2^53.
// JsonToUint64: a non-negative integer (no floats): safetensors offsets and shapes.
bool JsonToInt64(const Json& j, int64_t* out);
bool JsonToUint64(const Json& j, uint64_t* out);

// Writes `text` to `path` (replacing it). InvalidArgument naming the path on failure.
Status WriteStringToFile(const std::string& path, std::string_view text);

}  // namespace ax
