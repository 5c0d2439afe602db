#include "tokenizer/decoders.h"

#include "tokenizer/json_util.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/pre_tokenizers.h"
#include "tokenizer/regex.h"
#include "tokenizer/utf8.h"

namespace ax::tok {
namespace {

// ByteLevel: every char maps back to its byte (a token with a char outside the
// map contributes its raw UTF-8), then all bytes are read lossily as one string.
class ByteLevelDecoder final : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens, DecodeState* st) const override {
    std::string bytes;
    for (const std::string& t : *tokens) {
      size_t start = bytes.size();
      size_t i = 0;
      bool ok = true;
      while (i < t.size()) {
        int b = UnicodeToByte(NextCodePoint(t, i));
        if (b < 0) {
          ok = false;
          break;
        }
        bytes.push_back(static_cast<char>(b));
      }
      if (!ok) {
        bytes.resize(start);
        bytes += t;
      }
    }
    tokens->assign(1, Utf8Lossy(bytes));
    st->collapsed = true;
  }
};

class ReplaceDecoder final : public Decoder {
 public:
  ReplaceDecoder(std::string literal, std::unique_ptr<Regex> re, std::string content)
      : literal_(std::move(literal)), re_(std::move(re)), content_(std::move(content)) {}
  void DecodeChain(std::vector<std::string>* tokens, DecodeState*) const override {
    for (std::string& t : *tokens) {
      std::string out;
      size_t prev = 0;
      auto emit = [&](size_t b, size_t e) {
        out.append(t, prev, b - prev);
        out += content_;
        prev = e;
      };
      if (re_ != nullptr) {
        re_->ForEachMatch(t, emit);
      } else if (!literal_.empty()) {
        for (size_t pos = t.find(literal_); pos != std::string::npos; pos = t.find(literal_, prev)) {
          emit(pos, pos + literal_.size());
        }
      }
      if (prev == 0) continue;
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> re_;
  std::string content_;
};

// ByteFallback: runs of <0xNN> tokens become their bytes when those form valid
// UTF-8, else one U+FFFD per byte (HF's rule; not a lossy decode).
class ByteFallbackDecoder final : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens, DecodeState*) const override {
    std::vector<std::string> out;
    out.reserve(tokens->size());
    std::string run;
    size_t run_len = 0;
    auto flush = [&] {
      if (run_len == 0) return;
      if (IsValidUtf8(run)) {
        out.push_back(run);
      } else {
        for (size_t k = 0; k < run_len; ++k) out.emplace_back(kReplacementChar);
      }
      run.clear();
      run_len = 0;
    };
    for (std::string& t : *tokens) {
      int b = ByteFallbackValue(t);
      if (b >= 0) {
        run.push_back(static_cast<char>(b));
        ++run_len;
        continue;
      }
      flush();
      out.push_back(std::move(t));
    }
    flush();
    tokens->swap(out);
  }
};

class FuseDecoder final : public Decoder {
 public:
  void DecodeChain(std::vector<std::string>* tokens, DecodeState* st) const override {
    std::string all;
    for (const std::string& t : *tokens) all += t;
    tokens->clear();
    tokens->push_back(std::move(all));
    st->collapsed = true;
  }
};

// Strip: removes up to `start` leading and `stop` trailing `content` chars of
// every token.
class StripDecoder final : public Decoder {
 public:
  StripDecoder(std::string content, size_t start, size_t stop)
      : content_(std::move(content)), start_(start), stop_(stop) {}
  void DecodeChain(std::vector<std::string>* tokens, DecodeState* st) const override {
    for (size_t k = 0; k < tokens->size(); ++k) {
      std::string& t = (*tokens)[k];
      size_t b = 0, e = t.size();
      // A fused window that does not start the text keeps its first chars.
      bool strip_start = !(k == 0 && st->collapsed && !st->text_before_empty);
      for (size_t n = 0; strip_start && n < start_ && t.compare(b, content_.size(), content_) == 0 &&
                         b + content_.size() <= e;
           ++n) {
        b += content_.size();
      }
      for (size_t n = 0; n < stop_ && e >= b + content_.size() &&
                         t.compare(e - content_.size(), content_.size(), content_) == 0;
           ++n) {
        e -= content_.size();
      }
      if (b != 0 || e != t.size()) t = t.substr(b, e - b);
    }
  }

 private:
  std::string content_;
  size_t start_, stop_;
};

// Metaspace: replacement chars become spaces, except that the text's first
// token drops all of them (unless prepend_scheme is "never").
class MetaspaceDecoder final : public Decoder {
 public:
  MetaspaceDecoder(std::string rep, bool strip_first) : rep_(std::move(rep)), strip_first_(strip_first) {}
  void DecodeChain(std::vector<std::string>* tokens, DecodeState* st) const override {
    for (size_t k = 0; k < tokens->size(); ++k) {
      std::string& t = (*tokens)[k];
      bool drop = k == 0 && strip_first_ && st->first_is_global;
      std::string out;
      size_t prev = 0;
      for (size_t pos = t.find(rep_); pos != std::string::npos; pos = t.find(rep_, prev)) {
        out.append(t, prev, pos - prev);
        if (!drop) out += ' ';
        prev = pos + rep_.size();
      }
      if (prev == 0) continue;
      out.append(t, prev, std::string::npos);
      t = std::move(out);
    }
  }

 private:
  std::string rep_;
  bool strip_first_;
};

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : parts_(std::move(parts)) {}
  void DecodeChain(std::vector<std::string>* tokens, DecodeState* st) const override {
    for (const auto& p : parts_) p->DecodeChain(tokens, st);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

}  // namespace

int ByteFallbackValue(const std::string& t) {
  if (t.size() != 6 || t[0] != '<' || t[1] != '0' || t[2] != 'x' || t[5] != '>') return -1;
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  int hi = hex(t[3]), lo = hex(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

Result<std::unique_ptr<Decoder>> ParseDecoder(const Json& j, const std::string& where) {
  std::string type;
  AX_RETURN_IF_ERROR(GetType(j, where, &type));
  if (type == "ByteLevel") return std::unique_ptr<Decoder>(new ByteLevelDecoder());
  if (type == "ByteFallback") return std::unique_ptr<Decoder>(new ByteFallbackDecoder());
  if (type == "Fuse") return std::unique_ptr<Decoder>(new FuseDecoder());
  if (type == "Replace") {
    std::string literal, content;
    std::unique_ptr<Regex> re;
    AX_RETURN_IF_ERROR(ParsePattern(j, where, &literal, &re));
    AX_RETURN_IF_ERROR(GetString(j, "content", where, &content));
    return std::unique_ptr<Decoder>(new ReplaceDecoder(std::move(literal), std::move(re), std::move(content)));
  }
  if (type == "Strip") {
    std::string content;
    AX_RETURN_IF_ERROR(GetString(j, "content", where, &content));
    uint64_t start = 0, stop = 0;
    AX_RETURN_IF_ERROR(GetOptUint(j, "start", where, &start));
    AX_RETURN_IF_ERROR(GetOptUint(j, "stop", where, &stop));
    return std::unique_ptr<Decoder>(new StripDecoder(std::move(content), start, stop));
  }
  if (type == "Metaspace") {
    std::string rep = "\xE2\x96\x81";
    if (FindField(j, "replacement") != nullptr) AX_RETURN_IF_ERROR(GetString(j, "replacement", where, &rep));
    bool strip_first = true;
    if (const Json* ps = FindField(j, "prepend_scheme"); ps != nullptr && !ps->is_null()) {
      strip_first = !(ps->is_string() && ps->get<std::string>() == "never");
    } else {
      AX_RETURN_IF_ERROR(GetOptBool(j, "add_prefix_space", where, &strip_first));
    }
    return std::unique_ptr<Decoder>(new MetaspaceDecoder(std::move(rep), strip_first));
  }
  if (type == "Sequence") {
    const Json* list = FindField(j, "decoders");
    if (list == nullptr || !list->is_array()) return TypeError(where + ".decoders", "an array");
    std::vector<std::unique_ptr<Decoder>> parts;
    for (size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_null()) continue;
      AX_ASSIGN_OR_RETURN(auto part, ParseDecoder((*list)[i], where + ".decoders[" + std::to_string(i) + "]"));
      parts.push_back(std::move(part));
    }
    return std::unique_ptr<Decoder>(new SequenceDecoder(std::move(parts)));
  }
  return Unimplemented(where + ".type '" + type +
                       "' is not supported (expected ByteLevel, Replace, ByteFallback, Fuse, Strip, "
                       "Metaspace or Sequence)");
}

}  // namespace ax::tok
