// PCRE2 (UTF + UCP, JIT) regexes with the matching semantics Hugging Face
// tokenizers gets from Oniguruma (its SysRegex) for tokenizer.json patterns.
//
// Differences between the two engines that we paper over at compile time
// (TranslateOnigPattern): Oniguruma's \s is exactly Unicode White_Space minus
// nothing (PCRE2's \s also matches U+180E), \h is a hex digit in Oniguruma (a
// horizontal space in PCRE2) and (?m) means "dot matches newline" (PCRE2: (?s)).
// ^ and $ are line anchors in Oniguruma's Ruby syntax, so we compile MULTILINE.
//
// Thread-safety: a compiled Regex is immutable; matching uses per-thread match
// data and JIT stacks, so one Regex may be used from many threads at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ax/status.h"

namespace ax::tok {

class Regex {
 public:
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // `onig` selects the Oniguruma translation above; false compiles PCRE2 syntax
  // as is. `what` names the pattern in error messages.
  static Result<std::unique_ptr<Regex>> Compile(std::string_view pattern, bool onig,
                                                const std::string& what);
  // Builds a regex that matches `literal` verbatim.
  static Result<std::unique_ptr<Regex>> Literal(std::string_view literal, const std::string& what);

  // Finds the first match at or after byte `start` of `text` (valid UTF-8; the
  // whole text is visible to lookbehinds). Returns false when there is none.
  bool Find(std::string_view text, size_t start, size_t* mbegin, size_t* mend) const;

  // All matches, as Oniguruma's find_iter yields them: an empty match right
  // where the previous match ended is skipped by advancing one character.
  template <typename Fn>
  void ForEachMatch(std::string_view text, Fn&& fn) const {
    size_t last_end = 0;
    bool have_last = false;
    size_t last_match_end = 0;
    while (last_end <= text.size()) {
      size_t b, e;
      if (!Find(text, last_end, &b, &e)) break;
      if (b == e && have_last && last_match_end == e) {
        last_end += last_end < text.size() ? CharLenAt(text, last_end) : 1;
        continue;
      }
      last_end = e;
      have_last = true;
      last_match_end = e;
      fn(b, e);
    }
  }

  // Matches as (begin, end) spans; convenience over ForEachMatch.
  std::vector<std::pair<size_t, size_t>> FindAll(std::string_view text) const;

 private:
  explicit Regex(void* code) : code_(code) {}
  static size_t CharLenAt(std::string_view text, size_t i);
  void* code_;  // pcre2_code_8*
};

// Rewrites an Oniguruma pattern into PCRE2 syntax (see the file comment).
std::string TranslateOnigPattern(std::string_view pattern);

// Escapes every regex metacharacter of `literal`.
std::string EscapeRegex(std::string_view literal);

}  // namespace ax::tok
