#include "tokenizer/pre_tokenizers.h"

#include <algorithm>
#include <array>

#include "tokenizer/json_util.h"
#include "tokenizer/normalizers.h"
#include "tokenizer/regex.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace ax::tok {
namespace {

// HF's SplitDelimiterBehavior.
enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Span {
  uint32_t b, e;
  bool match;
};

// Turns the spans of one piece (contiguous, covering it, `match` marking the
// delimiter spans) into sub-pieces exactly as NormalizedString::split does.
void EmitSplits(const Piece& p, std::vector<Span>& spans, Behavior beh, std::vector<Piece>* out) {
  std::vector<Span> res;  // `match` now means "remove"
  res.reserve(spans.size());
  bool prev_match = false;
  switch (beh) {
    case Behavior::kIsolated:
      for (auto s : spans) res.push_back({s.b, s.e, false});
      break;
    case Behavior::kRemoved:
      res = spans;
      break;
    case Behavior::kContiguous:
      for (auto s : spans) {
        if (s.match == prev_match && !res.empty()) {
          res.back().e = s.e;
        } else {
          res.push_back({s.b, s.e, false});
        }
        prev_match = s.match;
      }
      break;
    case Behavior::kMergedWithPrevious:
      for (auto s : spans) {
        if (s.match && !prev_match && !res.empty()) {
          res.back().e = s.e;
        } else {
          res.push_back({s.b, s.e, false});
        }
        prev_match = s.match;
      }
      break;
    case Behavior::kMergedWithNext:
      for (size_t k = spans.size(); k-- > 0;) {
        const Span& s = spans[k];
        if (s.match && !prev_match && !res.empty()) {
          res.back().b = s.b;
        } else {
          res.push_back({s.b, s.e, false});
        }
        prev_match = s.match;
      }
      std::reverse(res.begin(), res.end());
      break;
  }
  for (const Span& s : res) {
    if (s.match || s.e == s.b) continue;
    out->push_back({s.b, s.e, p.at_origin && s.b == p.begin});
  }
}

// Builds covering spans from sorted, non-overlapping delimiter matches (absolute
// offsets) inside piece p, then flips them when `invert`.
void MatchesToSpans(const Piece& p, const std::vector<std::pair<size_t, size_t>>& matches,
                    bool invert, std::vector<Span>* spans) {
  spans->clear();
  uint32_t prev = p.begin;
  for (auto [b, e] : matches) {
    if (prev != b) spans->push_back({prev, static_cast<uint32_t>(b), invert});
    spans->push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e), !invert});
    prev = static_cast<uint32_t>(e);
  }
  if (prev != p.end) spans->push_back({prev, p.end, invert});
}

// Spans where every character satisfying `pred` is a match of its own.
template <typename Pred>
void CharSpans(const std::string& text, const Piece& p, Pred pred, std::vector<Span>* spans) {
  spans->clear();
  uint32_t last = p.begin;
  size_t i = p.begin;
  while (i < p.end) {
    size_t start = i;
    char32_t c = NextCodePoint(std::string_view(text.data(), p.end), i);
    if (pred(c)) {
      if (last < start) spans->push_back({last, static_cast<uint32_t>(start), false});
      spans->push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(i), true});
      last = static_cast<uint32_t>(i);
    }
  }
  if (last < p.end) spans->push_back({last, p.end, false});
}

Result<Behavior> ParseBehavior(const Json& j, const std::string& where) {
  std::string b;
  AX_RETURN_IF_ERROR(GetString(j, "behavior", where, &b));
  if (b == "Removed") return Behavior::kRemoved;
  if (b == "Isolated") return Behavior::kIsolated;
  if (b == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (b == "MergedWithNext") return Behavior::kMergedWithNext;
  if (b == "Contiguous") return Behavior::kContiguous;
  return InvalidArgument(where + ".behavior '" + b +
                         "' is not one of Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
}

// Split: regex or literal delimiters with a behavior, optionally inverted.
class SplitPre final : public PreTokenizer {
 public:
  SplitPre(std::string literal, std::unique_ptr<Regex> re, Behavior beh, bool invert)
      : literal_(std::move(literal)), re_(std::move(re)), beh_(beh), invert_(invert) {}
  void Apply(PieceList* pl, PieceList* scratch) const override {
    std::vector<Piece>& out = scratch->pieces;
    out.clear();
    std::vector<std::pair<size_t, size_t>> matches;
    std::vector<Span> spans;
    for (const Piece& p : pl->pieces) {
      matches.clear();
      std::string_view piece(pl->text.data() + p.begin, p.end - p.begin);
      if (re_ != nullptr) {
        re_->ForEachMatch(piece, [&](size_t b, size_t e) { matches.emplace_back(p.begin + b, p.begin + e); });
      } else if (!literal_.empty()) {
        for (size_t pos = piece.find(literal_); pos != std::string_view::npos;
             pos = piece.find(literal_, pos + literal_.size())) {
          matches.emplace_back(p.begin + pos, p.begin + pos + literal_.size());
        }
      }
      MatchesToSpans(p, matches, invert_, &spans);
      EmitSplits(p, spans, beh_, &out);
    }
    pl->pieces.swap(out);
  }

 private:
  std::string literal_;
  std::unique_ptr<Regex> re_;
  Behavior beh_;
  bool invert_;
};

// Splits on characters matching a predicate (Digits, WhitespaceSplit).
template <typename Pred>
class CharSplitPre final : public PreTokenizer {
 public:
  CharSplitPre(Pred pred, Behavior beh) : pred_(pred), beh_(beh) {}
  void Apply(PieceList* pl, PieceList* scratch) const override {
    std::vector<Piece>& out = scratch->pieces;
    out.clear();
    std::vector<Span> spans;
    for (const Piece& p : pl->pieces) {
      CharSpans(pl->text, p, pred_, &spans);
      EmitSplits(p, spans, beh_, &out);
    }
    pl->pieces.swap(out);
  }

 private:
  Pred pred_;
  Behavior beh_;
};

// Whitespace: the matches of \w+|[^\w\s]+ (Rust regex classes) are the pieces.
class WhitespacePre final : public PreTokenizer {
 public:
  void Apply(PieceList* pl, PieceList* scratch) const override {
    std::vector<Piece>& out = scratch->pieces;
    out.clear();
    for (const Piece& p : pl->pieces) {
      std::string_view text(pl->text.data(), p.end);
      size_t i = p.begin;
      int run_kind = 0;  // 0 none, 1 word, 2 other
      size_t run_start = i;
      auto flush = [&](size_t end) {
        if (run_kind != 0 && end > run_start) {
          out.push_back({static_cast<uint32_t>(run_start), static_cast<uint32_t>(end),
                         p.at_origin && run_start == p.begin});
        }
      };
      while (i < p.end) {
        size_t start = i;
        char32_t c = NextCodePoint(text, i);
        int kind = IsWordChar(c) ? 1 : IsWhiteSpace(c) ? 0 : 2;
        if (kind != run_kind) {
          flush(start);
          run_kind = kind;
          run_start = start;
        }
      }
      flush(p.end);
    }
    pl->pieces.swap(out);
  }
};

const std::array<std::string, 256>& ByteTable() {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char32_t cp = printable ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      AppendUtf8(cp, &t[b]);
    }
    return t;
  }();
  return table;
}

constexpr std::string_view kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// ByteLevel: optional prefix space, optional GPT-2 regex split, then every byte
// becomes its printable stand-in character.
class ByteLevelPre final : public PreTokenizer {
 public:
  ByteLevelPre(bool add_prefix_space, std::unique_ptr<Regex> re)
      : add_prefix_space_(add_prefix_space), re_(std::move(re)) {}
  void Apply(PieceList* pl, PieceList* scratch) const override {
    if (add_prefix_space_) {
      scratch->text.clear();
      scratch->pieces.clear();
      for (const Piece& p : pl->pieces) {
        uint32_t b = static_cast<uint32_t>(scratch->text.size());
        if (pl->text[p.begin] != ' ') scratch->text.push_back(' ');
        scratch->text.append(pl->text, p.begin, p.end - p.begin);
        scratch->pieces.push_back({b, static_cast<uint32_t>(scratch->text.size()), p.at_origin});
      }
      std::swap(*pl, *scratch);
    }
    if (re_ != nullptr) {
      std::vector<Piece>& out = scratch->pieces;
      out.clear();
      std::vector<std::pair<size_t, size_t>> matches;
      std::vector<Span> spans;
      for (const Piece& p : pl->pieces) {
        matches.clear();
        std::string_view piece(pl->text.data() + p.begin, p.end - p.begin);
        re_->ForEachMatch(piece, [&](size_t b, size_t e) { matches.emplace_back(p.begin + b, p.begin + e); });
        MatchesToSpans(p, matches, false, &spans);
        EmitSplits(p, spans, Behavior::kIsolated, &out);
      }
      pl->pieces.swap(out);
    }
    // Each byte becomes a 1- or 2-byte UTF-8 char; write into a buffer sized
    // for the worst case (this loop is hot for Qwen-style tokenizers).
    const auto& table = ByteTable();
    scratch->pieces.clear();
    scratch->text.resize(pl->text.size() * 2);
    char* out = scratch->text.data();
    size_t n = 0;
    for (const Piece& p : pl->pieces) {
      auto b = static_cast<uint32_t>(n);
      for (uint32_t i = p.begin; i < p.end; ++i) {
        const std::string& ch = table[static_cast<uint8_t>(pl->text[i])];
        out[n] = ch[0];
        if (ch.size() == 2) out[n + 1] = ch[1];
        n += ch.size();
      }
      scratch->pieces.push_back({b, static_cast<uint32_t>(n), p.at_origin});
    }
    scratch->text.resize(n);
    std::swap(*pl, *scratch);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> re_;
};

enum class PrependScheme { kFirst, kAlways, kNever };

// Metaspace: spaces become the replacement char, which is prepended per the
// scheme; with split, each replacement starts a new piece (MergedWithNext).
class MetaspacePre final : public PreTokenizer {
 public:
  MetaspacePre(std::string rep, PrependScheme scheme, bool split)
      : rep_(std::move(rep)), scheme_(scheme), split_(split) {}
  void Apply(PieceList* pl, PieceList* scratch) const override {
    scratch->text.clear();
    scratch->pieces.clear();
    for (const Piece& p : pl->pieces) {
      uint32_t b = static_cast<uint32_t>(scratch->text.size());
      std::string_view piece(pl->text.data() + p.begin, p.end - p.begin);
      std::string replaced;
      replaced.reserve(piece.size() + rep_.size());
      for (char c : piece) {
        if (c == ' ') {
          replaced += rep_;
        } else {
          replaced += c;
        }
      }
      bool starts = replaced.compare(0, rep_.size(), rep_) == 0;
      bool prepend = scheme_ == PrependScheme::kAlways ? !starts
                     : scheme_ == PrependScheme::kFirst ? (!starts && p.at_origin)
                                                         : false;
      if (prepend) scratch->text += rep_;
      scratch->text += replaced;
      scratch->pieces.push_back({b, static_cast<uint32_t>(scratch->text.size()), p.at_origin});
    }
    std::swap(*pl, *scratch);
    if (!split_) return;
    std::vector<Piece>& out = scratch->pieces;
    out.clear();
    std::vector<std::pair<size_t, size_t>> matches;
    std::vector<Span> spans;
    for (const Piece& p : pl->pieces) {
      matches.clear();
      std::string_view piece(pl->text.data() + p.begin, p.end - p.begin);
      for (size_t pos = piece.find(rep_); pos != std::string_view::npos; pos = piece.find(rep_, pos + rep_.size())) {
        matches.emplace_back(p.begin + pos, p.begin + pos + rep_.size());
      }
      MatchesToSpans(p, matches, false, &spans);
      EmitSplits(p, spans, Behavior::kMergedWithNext, &out);
    }
    pl->pieces.swap(out);
  }

 private:
  std::string rep_;
  PrependScheme scheme_;
  bool split_;
};

class SequencePre final : public PreTokenizer {
 public:
  explicit SequencePre(std::vector<std::unique_ptr<PreTokenizer>> parts) : parts_(std::move(parts)) {}
  void Apply(PieceList* pl, PieceList* scratch) const override {
    for (const auto& p : parts_) p->Apply(pl, scratch);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

template <typename Pred>
std::unique_ptr<PreTokenizer> MakeCharSplit(Pred pred, Behavior beh) {
  return std::unique_ptr<PreTokenizer>(new CharSplitPre<Pred>(pred, beh));
}

}  // namespace

const std::string& ByteToUnicodeUtf8(uint8_t b) { return ByteTable()[b]; }

int UnicodeToByte(char32_t c) {
  static const std::array<int, 512> inverse = [] {
    std::array<int, 512> inv;
    inv.fill(-1);
    for (int b = 0; b < 256; ++b) {
      size_t i = 0;
      inv[NextCodePoint(ByteTable()[b], i)] = b;
    }
    return inv;
  }();
  return c < 512 ? inverse[c] : -1;
}

Result<std::unique_ptr<PreTokenizer>> ParsePreTokenizer(const Json& j, const std::string& where) {
  std::string type;
  AX_RETURN_IF_ERROR(GetType(j, where, &type));
  if (type == "Split") {
    std::string literal;
    std::unique_ptr<Regex> re;
    AX_RETURN_IF_ERROR(ParsePattern(j, where, &literal, &re));
    AX_ASSIGN_OR_RETURN(Behavior beh, ParseBehavior(j, where));
    bool invert = false;
    AX_RETURN_IF_ERROR(GetOptBool(j, "invert", where, &invert));
    return std::unique_ptr<PreTokenizer>(new SplitPre(std::move(literal), std::move(re), beh, invert));
  }
  if (type == "ByteLevel") {
    bool add_prefix_space = true, use_regex = true;
    AX_RETURN_IF_ERROR(GetOptBool(j, "add_prefix_space", where, &add_prefix_space));
    AX_RETURN_IF_ERROR(GetOptBool(j, "use_regex", where, &use_regex));
    std::unique_ptr<Regex> re;
    if (use_regex) {
      AX_ASSIGN_OR_RETURN(re, Regex::Compile(kGpt2Pattern, /*onig=*/true, where));
    }
    return std::unique_ptr<PreTokenizer>(new ByteLevelPre(add_prefix_space, std::move(re)));
  }
  if (type == "Metaspace") {
    std::string rep = "\xE2\x96\x81";
    if (FindField(j, "replacement") != nullptr) AX_RETURN_IF_ERROR(GetString(j, "replacement", where, &rep));
    PrependScheme scheme = PrependScheme::kAlways;
    if (const Json* ps = FindField(j, "prepend_scheme"); ps != nullptr && !ps->is_null()) {
      std::string s = ps->is_string() ? ps->get<std::string>() : "";
      if (s == "first") scheme = PrependScheme::kFirst;
      else if (s == "always") scheme = PrependScheme::kAlways;
      else if (s == "never") scheme = PrependScheme::kNever;
      else return InvalidArgument(where + ".prepend_scheme: expected \"first\", \"always\" or \"never\"");
    } else {
      bool add_prefix_space = true;
      AX_RETURN_IF_ERROR(GetOptBool(j, "add_prefix_space", where, &add_prefix_space));
      scheme = add_prefix_space ? PrependScheme::kAlways : PrependScheme::kNever;
    }
    bool split = true;
    AX_RETURN_IF_ERROR(GetOptBool(j, "split", where, &split));
    return std::unique_ptr<PreTokenizer>(new MetaspacePre(std::move(rep), scheme, split));
  }
  if (type == "Digits") {
    bool individual = false;
    AX_RETURN_IF_ERROR(GetOptBool(j, "individual_digits", where, &individual));
    return MakeCharSplit(IsNumeric, individual ? Behavior::kIsolated : Behavior::kContiguous);
  }
  if (type == "Whitespace") return std::unique_ptr<PreTokenizer>(new WhitespacePre());
  if (type == "WhitespaceSplit") return MakeCharSplit(IsWhiteSpace, Behavior::kRemoved);
  if (type == "Sequence") {
    const Json* list = FindField(j, "pretokenizers");
    if (list == nullptr || !list->is_array()) return TypeError(where + ".pretokenizers", "an array");
    std::vector<std::unique_ptr<PreTokenizer>> parts;
    for (size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_null()) continue;
      AX_ASSIGN_OR_RETURN(auto part, ParsePreTokenizer((*list)[i], where + ".pretokenizers[" + std::to_string(i) + "]"));
      parts.push_back(std::move(part));
    }
    return std::unique_ptr<PreTokenizer>(new SequencePre(std::move(parts)));
  }
  return Unimplemented(where + ".type '" + type +
                       "' is not supported (expected Split, ByteLevel, Metaspace, Digits, "
                       "Whitespace, WhitespaceSplit or Sequence)");
}

}  // namespace ax::tok
