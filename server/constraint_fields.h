// response_format, structured_outputs and guided_* → an output constraint (see
// constraint_fields.cpp).
#pragma once

#include "ax/engine.h"
#include "json_fields.h"

namespace ax::server {

// Reads the request's output-constraint fields into `out` (kNone when it has none) and
// the field that gave it into `param` (for the engine's compile errors); fails `r`
// naming the field on a malformed one or on more than one. `source`: the same body in
// its own key order (ApiRequest::source), the one a schema object is passed on in; null:
// the reader's (sorted) body.
void ReadConstraint(FieldReader& r, OutputConstraint* out, std::string* param,
                    const nlohmann::ordered_json* source = nullptr);

}  // namespace ax::server
