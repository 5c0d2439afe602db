#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.h"

#include <pcre2.h>

#include "tokenizer/utf8.h"

namespace ax::tok {
namespace {

// Oniguruma's \s: White_Space (U+0009-000D, 0020, 0085, 00A0, 1680, 2000-200A,
// 2028, 2029, 202F, 205F, 3000), without PCRE2's extra U+180E.
constexpr std::string_view kSpaceSet =
    "\\x{9}-\\x{D}\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";
constexpr std::string_view kHexSet = "0-9a-fA-F";

// Per-thread match state: one ovector pair is all we read, and a JIT stack big
// enough for patterns like \s+(?!\S) over long runs of whitespace.
struct ThreadMatchState {
  pcre2_match_data* md = nullptr;
  pcre2_match_context* mctx = nullptr;
  pcre2_jit_stack* stack = nullptr;
  ThreadMatchState() {
    md = pcre2_match_data_create(1, nullptr);
    mctx = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
    if (mctx != nullptr && stack != nullptr) pcre2_jit_stack_assign(mctx, nullptr, stack);
  }
  ~ThreadMatchState() {
    pcre2_match_data_free(md);
    pcre2_match_context_free(mctx);
    pcre2_jit_stack_free(stack);
  }
};

ThreadMatchState& State() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

std::string TranslateOnigPattern(std::string_view p) {
  std::string out;
  out.reserve(p.size() + 64);
  int class_depth = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      char e = p[i + 1];
      ++i;
      if (class_depth == 0) {
        if (e == 's') { out += "["; out += kSpaceSet; out += "]"; continue; }
        if (e == 'S') { out += "[^"; out += kSpaceSet; out += "]"; continue; }
        if (e == 'h') { out += "["; out += kHexSet; out += "]"; continue; }
        if (e == 'H') { out += "[^"; out += kHexSet; out += "]"; continue; }
      } else {
        if (e == 's') { out += kSpaceSet; continue; }
        // Oniguruma's \S is PCRE2's \S plus U+180E; in a class a union says so.
        if (e == 'S') { out += "\\S\\x{180E}"; continue; }
        if (e == 'h') { out += kHexSet; continue; }
      }
      out += '\\';
      out += e;
      continue;
    }
    if (c == '[') {
      // "[]...]" and "[^]...]" keep a leading ']' literal inside the class.
      ++class_depth;
      out += c;
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (c == ']' && class_depth > 0) {
      --class_depth;
      out += c;
      continue;
    }
    if (c == '(' && class_depth == 0 && i + 1 < p.size() && p[i + 1] == '?') {
      // Inline flags: Ruby's m is PCRE2's s.
      out += "(?";
      i += 1;
      while (i + 1 < p.size() && (p[i + 1] == 'i' || p[i + 1] == 'm' || p[i + 1] == 'x' ||
                                  p[i + 1] == '-')) {
        ++i;
        out += p[i] == 'm' ? 's' : p[i];
      }
      continue;
    }
    out += c;
  }
  return out;
}

std::string EscapeRegex(std::string_view literal) {
  std::string out;
  for (char c : literal) {
    if (std::string_view("\\^$.|?*+()[]{}-/#&~ \t\n").find(c) != std::string_view::npos) {
      if (c == '\t') { out += "\\t"; continue; }
      if (c == '\n') { out += "\\n"; continue; }
      out += '\\';
    }
    out += c;
  }
  return out;
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

Result<std::unique_ptr<Regex>> Regex::Compile(std::string_view pattern, bool onig,
                                              const std::string& what) {
  std::string translated = onig ? TranslateOnigPattern(pattern) : std::string(pattern);
  int err = 0;
  PCRE2_SIZE err_off = 0;
  uint32_t opts = PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK | (onig ? PCRE2_MULTILINE : 0u);
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()),
                                   translated.size(), opts, &err, &err_off, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    return InvalidArgument(what + ": regex '" + std::string(pattern) + "' does not compile: " +
                           reinterpret_cast<char*>(buf) + " at offset " + std::to_string(err_off));
  }
  // JIT is an optimisation only: if it is unavailable, matching interprets.
  (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  return std::unique_ptr<Regex>(new Regex(code));
}

Result<std::unique_ptr<Regex>> Regex::Literal(std::string_view literal, const std::string& what) {
  return Compile(EscapeRegex(literal), /*onig=*/false, what);
}

bool Regex::Find(std::string_view text, size_t start, size_t* mbegin, size_t* mend) const {
  ThreadMatchState& st = State();
  auto* code = static_cast<pcre2_code*>(code_);
  int rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start,
                       PCRE2_NO_UTF_CHECK, st.md, st.mctx);
  if (rc == PCRE2_ERROR_JIT_STACKLIMIT || rc == PCRE2_ERROR_MATCHLIMIT) {
    rc = pcre2_match(code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start,
                     PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, st.md, nullptr);
  }
  if (rc < 0) return false;
  PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.md);
  *mbegin = ov[0];
  *mend = ov[1];
  return true;
}

size_t Regex::CharLenAt(std::string_view text, size_t i) {
  return Utf8SeqLen(static_cast<unsigned char>(text[i]));
}

std::vector<std::pair<size_t, size_t>> Regex::FindAll(std::string_view text) const {
  std::vector<std::pair<size_t, size_t>> out;
  ForEachMatch(text, [&](size_t b, size_t e) { out.emplace_back(b, e); });
  return out;
}

}  // namespace ax::tok
