// Expression trees the front ends (GBNF, regex, JSON Schema, choice) build, and
// the builder that lowers them to a Grammar. Internal to src/constrain.
//
// Lowering: a literal becomes one byte set per byte; an ASCII-only class one byte
// set; any other class a helper rule of UTF-8 byte sequences; nested alternations,
// repetitions of compound expressions and optional tails become helper rules:
//   x{3,5}  ->  M3      M3 ::= x M2    M2 ::= x M1    M1 ::= x R2
//                       R2 ::= x R1 |  R1 ::= x |
//   x{1,2}  ->  x R1    x*  ->  S      S ::= x S |
// Repetitions are right-recursive, so matcher stacks stay bounded (tail positions
// are elided when a rule is entered). The M and R rules are recorded as chains
// (RepeatChain, by units left) so the token cache can share their entries.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ax/status.h"
#include "constrain/grammar.h"

namespace ax::constrain {

struct CpRange {
  char32_t lo, hi;  // inclusive
};

// Sorted, merged, surrogates removed; `negate` complements over U+0000..U+10FFFF.
std::vector<CpRange> NormalizeRanges(std::vector<CpRange> r, bool negate);

struct Expr {
  enum class Kind { kSeq, kAlt, kLit, kClass, kRef, kRepeat };
  Kind kind = Kind::kSeq;
  std::vector<Expr> kids;        // kSeq/kAlt: parts; kRepeat: kids[0]
  std::string lit;               // kLit: raw bytes
  std::vector<CpRange> ranges;   // kClass: normalized ranges
  int32_t rule = -1;             // kRef
  int32_t min = 0, max = -1;     // kRepeat; max -1 = unbounded

  static Expr Lit(std::string s);
  static Expr Class(std::vector<CpRange> r, bool negate = false);
  static Expr Ref(int32_t rule);
  static Expr Seq(std::vector<Expr> kids);
  static Expr Alt(std::vector<Expr> kids);
  static Expr Repeat(Expr e, int32_t min, int32_t max);
  static Expr Opt(Expr e) { return Repeat(std::move(e), 0, 1); }
  static Expr Star(Expr e) { return Repeat(std::move(e), 0, -1); }
  static Expr Plus(Expr e) { return Repeat(std::move(e), 1, -1); }
  static Expr Empty() { return Seq({}); }
};

class GrammarBuilder {
 public:
  // The id of the rule named `name`, declaring it (undefined) on first use.
  int32_t Rule(const std::string& name);
  bool IsDefined(int32_t rule) const { return defined_[rule]; }
  void Define(int32_t rule, Expr body);
  // A fresh rule named after `hint`.
  int32_t NewRule(const std::string& hint);
  // Errors: an undefined referenced rule, left recursion (`where` prefixes messages).
  Result<GrammarPtr> Build(int32_t root, const std::string& where);

 private:
  std::vector<std::string> names_;
  std::vector<Expr> bodies_;
  std::vector<bool> defined_;
  std::map<std::string, int32_t> by_name_;
};

void AppendUtf8(char32_t c, std::string* out);

// Per rule, the fewest bytes it matches (kUnbounded if it matches no finite text).
inline constexpr int32_t kUnbounded = 1 << 28;
std::vector<int32_t> MinBytes(const Grammar::Data& d);
// An error naming a rule that can reach itself before matching a byte.
Status CheckLeftRecursion(const Grammar::Data& d, const std::vector<int32_t>& min_bytes, const std::string& where);

// Repetition counts above this are rejected by the front ends (grammar size).
inline constexpr int32_t kMaxRepeat = 4096;

}  // namespace ax::constrain
