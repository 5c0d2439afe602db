// Compiled grammars for constrained decoding: JSON Schema, regex, choice and GBNF
// front ends all lower to one byte-level context-free form (see docs/structured-output.md).
//
// Form: rules of alternatives; an alternative is a sequence of elements, each
// either a byte set (one byte of output) or a reference to a rule. Character
// classes are lowered to UTF-8 byte sequences, so matching is byte by byte and
// tokens that end inside a multi-byte character are handled like any other.
// Alternatives are stored flat: `elems` holds each alternative's elements followed
// by a kEnd element, and a grammar position is an index into `elems`.
//
// Thread-safety: a Grammar is immutable once built; share it through GrammarPtr.
// The per-vocabulary token cache it owns is internally synchronised.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ax/status.h"

namespace ax::constrain {

class TokenVocab;
class TokenCache;

enum class ElemKind : uint8_t { kEnd, kBytes, kRule };

struct Elem {
  ElemKind kind;
  int32_t arg;  // kBytes: index into byte_sets(); kRule: rule id; kEnd: the rule id
};

using ByteSet = std::array<uint64_t, 4>;  // bit b set = byte b matches

// A bounded repetition lowered to a chain of rules (see expr.h): rules[c - 1] is
// the rule with c units left, the unit being its first element. Levels >= 2 have
// the same alternative layout, so a position maps to the same offset at another
// level. Every unit matches at least unit_min_bytes >= 1 bytes (chains of units
// that can match nothing are not recorded). The token cache uses this to share
// entries across levels (token_cache.h).
struct RepeatChain {
  std::vector<int32_t> rules;
  int32_t unit_min_bytes = 1;
};

inline bool ByteSetHas(const ByteSet& s, uint8_t b) { return ((s[b >> 6] >> (b & 63)) & 1) != 0; }

class Grammar {
 public:
  struct Data {
    std::vector<Elem> elems;
    std::vector<std::vector<int32_t>> alts;  // rule id -> start positions of its alternatives
    std::vector<ByteSet> byte_sets;
    std::vector<std::string> rule_names;  // for messages and dumps
    std::vector<RepeatChain> chains;
    int32_t root = 0;
  };
  explicit Grammar(Data d) : d_(std::move(d)) {}

  const std::vector<Elem>& elems() const { return d_.elems; }
  const std::vector<int32_t>& alts(int32_t rule) const { return d_.alts[rule]; }
  const ByteSet& byte_set(int32_t i) const { return d_.byte_sets[i]; }
  int32_t root() const { return d_.root; }
  int32_t num_rules() const { return static_cast<int32_t>(d_.alts.size()); }
  const std::string& rule_name(int32_t r) const { return d_.rule_names[r]; }
  const std::vector<RepeatChain>& chains() const { return d_.chains; }
  // GBNF-like text of the compiled form (byte sets as [..] of bytes), for debugging.
  std::string Dump() const;

  // The token classification cache of this grammar for `vocab` (created on first use).
  std::shared_ptr<TokenCache> CacheFor(const std::shared_ptr<const TokenVocab>& vocab) const;

 private:
  Data d_;
  mutable std::mutex cache_mu_;
  mutable std::map<const TokenVocab*, std::shared_ptr<TokenCache>> caches_;
};

using GrammarPtr = std::shared_ptr<const Grammar>;

// A rule of a GBNF grammar given as a JSON schema (CompileGbnf): the rule matches what
// CompileJsonSchema of that (sub)schema matches. This is how a grammar composes literal
// text with schema-constrained JSON, e.g. a tool call's tags around its arguments.
struct SchemaRule {
  std::string name;     // the rule name the GBNF text references
  std::string schema;   // JSON text, read in its own key order
  std::string pointer;  // the subschema at this JSON pointer ("" = the whole); $refs resolve against the whole
};

// JSON Schema (draft 2020-12 subset) -> grammar. Errors are InvalidArgument naming the
// JSON path of the offending keyword ("schema/properties/age/minimum: ...").
// Properties are generated in the schema object's order: the ordered_json overload
// keeps the order the schema was written in (parse its text with ordered_json); a
// nlohmann::json has sorted its keys already.
Result<GrammarPtr> CompileJsonSchema(const nlohmann::ordered_json& schema);
Result<GrammarPtr> CompileJsonSchema(const nlohmann::json& schema);
// response_format {type: json_object}: any JSON object.
GrammarPtr AnyJsonObject();
// The whole output matches `pattern` (ECMAScript-like subset, see the docs).
Result<GrammarPtr> CompileRegex(std::string_view pattern);
// The whole output is exactly one of `choices` (non-empty list, non-empty strings).
Result<GrammarPtr> CompileChoice(const std::vector<std::string>& choices);
// llama.cpp-style GBNF; the start rule is "root". `schemas` define further rules the
// text may reference (a name the text also defines is an error); their errors name the
// rule: "args/properties/n/minimum: ...".
Result<GrammarPtr> CompileGbnf(std::string_view text, const std::vector<SchemaRule>& schemas = {});

}  // namespace ax::constrain
