#include "tokenizer/normalizers.h"

#include <unicode/normalizer2.h>
#include <unicode/bytestream.h>
#include <unicode/stringpiece.h>

#include "tokenizer/json_util.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace ax::tok {
namespace {

bool IsAscii(const std::string& s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// NFC/NFD/NFKC/NFKD through ICU's UTF-8 API. ASCII text is in every form.
class UnicodeNormalizer final : public Normalizer {
 public:
  explicit UnicodeNormalizer(const icu::Normalizer2* n) : n_(n) {}
  void Normalize(std::string* s) const override {
    if (IsAscii(*s)) return;
    UErrorCode ec = U_ZERO_ERROR;
    if (n_->isNormalizedUTF8(icu::StringPiece(s->data(), static_cast<int32_t>(s->size())), ec) &&
        U_SUCCESS(ec)) {
      return;
    }
    ec = U_ZERO_ERROR;
    std::string out;
    icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(s->size()));
    n_->normalizeUTF8(0, icu::StringPiece(s->data(), static_cast<int32_t>(s->size())), sink,
                      nullptr, ec);
    if (U_SUCCESS(ec)) *s = std::move(out);
  }

 private:
  const icu::Normalizer2* n_;
};

class Lowercase final : public Normalizer {
 public:
  void Normalize(std::string* s) const override {
    std::string out;
    out.reserve(s->size());
    size_t i = 0;
    while (i < s->size()) AppendLowercase(NextCodePoint(*s, i), &out);
    *s = std::move(out);
  }
};

// Strip: removes White_Space characters at either end.
class Strip final : public Normalizer {
 public:
  Strip(bool left, bool right) : left_(left), right_(right) {}
  void Normalize(std::string* s) const override {
    size_t b = 0, e = s->size();
    if (left_) {
      while (b < e) {
        size_t i = b;
        if (!IsWhiteSpace(NextCodePoint(*s, i))) break;
        b = i;
      }
    }
    if (right_) {
      while (e > b) {
        size_t start = e - 1;
        while (start > b && (static_cast<unsigned char>((*s)[start]) & 0xC0) == 0x80) --start;
        size_t i = start;
        if (!IsWhiteSpace(NextCodePoint(*s, i))) break;
        e = start;
      }
    }
    *s = s->substr(b, e - b);
  }

 private:
  bool left_, right_;
};

// Prepend: adds a prefix to non-empty text (HF skips empty strings).
class Prepend final : public Normalizer {
 public:
  explicit Prepend(std::string p) : prefix_(std::move(p)) {}
  void Normalize(std::string* s) const override {
    if (!s->empty()) s->insert(0, prefix_);
  }

 private:
  std::string prefix_;
};

// Replace: every non-overlapping match, left to right, becomes `content`.
class Replace final : public Normalizer {
 public:
  Replace(std::string literal, std::unique_ptr<Regex> re, std::string content)
      : literal_(std::move(literal)), re_(std::move(re)), content_(std::move(content)) {}
  void Normalize(std::string* s) const override {
    std::string out;
    size_t prev = 0;
    auto emit = [&](size_t b, size_t e) {
      out.append(*s, prev, b - prev);
      out += content_;
      prev = e;
    };
    if (re_ != nullptr) {
      re_->ForEachMatch(*s, emit);
    } else {
      if (literal_.empty()) return;
      size_t pos = s->find(literal_);
      if (pos == std::string::npos) return;
      while (pos != std::string::npos) {
        emit(pos, pos + literal_.size());
        pos = s->find(literal_, prev);
      }
    }
    out.append(*s, prev, std::string::npos);
    *s = std::move(out);
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> re_;
  std::string content_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts)
      : parts_(std::move(parts)) {}
  void Normalize(std::string* s) const override {
    for (const auto& p : parts_) p->Normalize(s);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

}  // namespace

// Reads a {"String": s} or {"Regex": r} pattern into a literal or a compiled regex.
Status ParsePattern(const Json& j, const std::string& where, std::string* literal,
                    std::unique_ptr<Regex>* re) {
  const Json* p = FindField(j, "pattern");
  if (p == nullptr || !p->is_object()) return TypeError(where + ".pattern", "{\"String\": ...} or {\"Regex\": ...}");
  if (const Json* s = FindField(*p, "String")) {
    if (!s->is_string()) return TypeError(where + ".pattern.String", "a string");
    *literal = s->get<std::string>();
    return Status::Ok();
  }
  if (const Json* r = FindField(*p, "Regex")) {
    if (!r->is_string()) return TypeError(where + ".pattern.Regex", "a string");
    auto compiled = Regex::Compile(r->get<std::string>(), /*onig=*/true, where + ".pattern.Regex");
    if (!compiled.ok()) return compiled.status();
    *re = std::move(compiled).value();
    return Status::Ok();
  }
  return TypeError(where + ".pattern", "{\"String\": ...} or {\"Regex\": ...}");
}

Result<std::unique_ptr<Normalizer>> ParseNormalizer(const Json& j, const std::string& where) {
  std::string type;
  AX_RETURN_IF_ERROR(GetType(j, where, &type));
  UErrorCode ec = U_ZERO_ERROR;
  const icu::Normalizer2* icu_norm = nullptr;
  if (type == "NFC") icu_norm = icu::Normalizer2::getNFCInstance(ec);
  if (type == "NFD") icu_norm = icu::Normalizer2::getNFDInstance(ec);
  if (type == "NFKC") icu_norm = icu::Normalizer2::getNFKCInstance(ec);
  if (type == "NFKD") icu_norm = icu::Normalizer2::getNFKDInstance(ec);
  if (icu_norm != nullptr || type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    if (U_FAILURE(ec) || icu_norm == nullptr) {
      return Internal(where + ": ICU has no " + type + " data (" + u_errorName(ec) + ")");
    }
    return std::unique_ptr<Normalizer>(new UnicodeNormalizer(icu_norm));
  }
  if (type == "Lowercase") return std::unique_ptr<Normalizer>(new Lowercase());
  if (type == "Strip") {
    bool left = true, right = true;
    AX_RETURN_IF_ERROR(GetOptBool(j, "strip_left", where, &left));
    AX_RETURN_IF_ERROR(GetOptBool(j, "strip_right", where, &right));
    return std::unique_ptr<Normalizer>(new Strip(left, right));
  }
  if (type == "Prepend") {
    std::string p;
    AX_RETURN_IF_ERROR(GetString(j, "prepend", where, &p));
    return std::unique_ptr<Normalizer>(new Prepend(std::move(p)));
  }
  if (type == "Replace") {
    std::string literal, content;
    std::unique_ptr<Regex> re;
    AX_RETURN_IF_ERROR(ParsePattern(j, where, &literal, &re));
    AX_RETURN_IF_ERROR(GetString(j, "content", where, &content));
    return std::unique_ptr<Normalizer>(new Replace(std::move(literal), std::move(re), std::move(content)));
  }
  if (type == "Sequence") {
    const Json* list = FindField(j, "normalizers");
    if (list == nullptr || !list->is_array()) return TypeError(where + ".normalizers", "an array");
    std::vector<std::unique_ptr<Normalizer>> parts;
    for (size_t i = 0; i < list->size(); ++i) {
      const Json& item = (*list)[i];
      if (item.is_null()) continue;
      AX_ASSIGN_OR_RETURN(auto part, ParseNormalizer(item, where + ".normalizers[" + std::to_string(i) + "]"));
      parts.push_back(std::move(part));
    }
    return std::unique_ptr<Normalizer>(new SequenceNormalizer(std::move(parts)));
  }
  return Unimplemented(where + ".type '" + type +
                       "' is not supported (expected NFC, NFD, NFKC, NFKD, Lowercase, Strip, "
                       "Prepend, Replace or Sequence)");
}

}  // namespace ax::tok
