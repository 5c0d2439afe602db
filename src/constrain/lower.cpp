// Expr factories, code point ranges -> UTF-8 byte sequences, and the lowering of
// expression trees to the flat Grammar form (see expr.h).
#include <algorithm>

#include "constrain/expr.h"

namespace ax::constrain {
namespace {

constexpr char32_t kMaxCp = 0x10FFFF;

using ByteRange = std::pair<uint8_t, uint8_t>;
using ByteSeq = std::vector<ByteRange>;

int EncodeUtf8(char32_t c, uint8_t* out) {
  if (c < 0x80) return out[0] = static_cast<uint8_t>(c), 1;
  if (c < 0x800) {
    out[0] = static_cast<uint8_t>(0xC0 | (c >> 6));
    out[1] = static_cast<uint8_t>(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = static_cast<uint8_t>(0xE0 | (c >> 12));
    out[1] = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3F));
    out[2] = static_cast<uint8_t>(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = static_cast<uint8_t>(0xF0 | (c >> 18));
  out[1] = static_cast<uint8_t>(0x80 | ((c >> 12) & 0x3F));
  out[2] = static_cast<uint8_t>(0x80 | ((c >> 6) & 0x3F));
  out[3] = static_cast<uint8_t>(0x80 | (c & 0x3F));
  return 4;
}

// Splits [lo, hi] into sequences of byte ranges whose products are exactly the
// UTF-8 encodings of the range (the utf8-ranges algorithm).
void SplitUtf8(char32_t lo, char32_t hi, std::vector<ByteSeq>* out) {
  for (char32_t max : {char32_t{0x7F}, char32_t{0x7FF}, char32_t{0xFFFF}}) {
    if (lo <= max && hi > max) {
      SplitUtf8(lo, max, out);
      SplitUtf8(max + 1, hi, out);
      return;
    }
  }
  if (hi <= 0x7F) {
    out->push_back({{static_cast<uint8_t>(lo), static_cast<uint8_t>(hi)}});
    return;
  }
  for (int i = 1; i < 4; ++i) {
    char32_t m = (char32_t{1} << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        SplitUtf8(lo, lo | m, out);
        SplitUtf8((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        SplitUtf8(lo, (hi & ~m) - 1, out);
        SplitUtf8(hi & ~m, hi, out);
        return;
      }
    }
  }
  uint8_t a[4], b[4];
  int n = EncodeUtf8(lo, a);
  EncodeUtf8(hi, b);
  ByteSeq seq;
  for (int i = 0; i < n; ++i) seq.emplace_back(a[i], b[i]);
  out->push_back(std::move(seq));
}

ByteSet RangeSet(uint8_t lo, uint8_t hi) {
  ByteSet s{};
  for (int b = lo; b <= hi; ++b) s[b >> 6] |= uint64_t{1} << (b & 63);
  return s;
}

class Lowerer {
 public:
  Lowerer(std::vector<std::string> names, size_t n) : names_(std::move(names)) { alts_.resize(n); }

  void LowerRule(int32_t r, const Expr& body) {
    std::vector<std::vector<Elem>> alts;
    if (body.kind == Expr::Kind::kAlt) {
      for (const Expr& k : body.kids) {
        alts.emplace_back();
        LowerInto(k, &alts.back());
      }
    } else {
      alts.emplace_back();
      LowerInto(body, &alts.back());
    }
    alts_[r] = std::move(alts);
  }

  Grammar::Data Finish(int32_t root) {
    Grammar::Data d;
    d.root = root;
    d.byte_sets = std::move(sets_);
    d.rule_names = std::move(names_);
    d.chains = std::move(chains_);
    d.alts.resize(alts_.size());
    for (size_t r = 0; r < alts_.size(); ++r) {
      for (const std::vector<Elem>& alt : alts_[r]) {
        d.alts[r].push_back(static_cast<int32_t>(d.elems.size()));
        d.elems.insert(d.elems.end(), alt.begin(), alt.end());
        d.elems.push_back(Elem{ElemKind::kEnd, static_cast<int32_t>(r)});
      }
    }
    return d;
  }

  const std::vector<std::vector<std::vector<Elem>>>& alts() const { return alts_; }

 private:
  int32_t SetId(const ByteSet& s) {
    auto [it, fresh] = set_ids_.emplace(s, static_cast<int32_t>(sets_.size()));
    if (fresh) sets_.push_back(s);
    return it->second;
  }
  Elem Bytes(const ByteSet& s) { return Elem{ElemKind::kBytes, SetId(s)}; }

  int32_t NewRule(const std::string& hint) {
    names_.push_back(hint + "-" + std::to_string(names_.size()));
    alts_.emplace_back();
    return static_cast<int32_t>(alts_.size() - 1);
  }

  int32_t Helper(const Expr& e, const std::string& hint) {
    int32_t r = NewRule(hint);
    LowerRule(r, e);
    return r;
  }

  int32_t ClassRule(const std::vector<CpRange>& ranges) {
    std::vector<std::pair<char32_t, char32_t>> key;
    key.reserve(ranges.size());
    for (const CpRange& r : ranges) key.emplace_back(r.lo, r.hi);
    auto it = class_rules_.find(key);
    if (it != class_rules_.end()) return it->second;
    std::vector<ByteSeq> seqs;
    for (const CpRange& r : ranges) SplitUtf8(r.lo, r.hi, &seqs);
    ByteSet ascii{};
    bool has_ascii = false;
    std::map<ByteSeq, ByteSet> by_tail;  // tail ranges -> union of lead bytes
    for (const ByteSeq& s : seqs) {
      ByteSet lead = RangeSet(s[0].first, s[0].second);
      if (s.size() == 1) {
        for (int i = 0; i < 4; ++i) ascii[i] |= lead[i];
        has_ascii = true;
        continue;
      }
      ByteSet& u = by_tail[ByteSeq(s.begin() + 1, s.end())];
      for (int i = 0; i < 4; ++i) u[i] |= lead[i];
    }
    std::vector<std::vector<Elem>> alts;
    if (has_ascii) alts.push_back({Bytes(ascii)});
    for (const auto& [tail, lead] : by_tail) {
      std::vector<Elem> alt{Bytes(lead)};
      for (const ByteRange& br : tail) alt.push_back(Bytes(RangeSet(br.first, br.second)));
      alts.push_back(std::move(alt));
    }
    int32_t r = NewRule("char");
    alts_[r] = std::move(alts);
    class_rules_.emplace(std::move(key), r);
    return r;
  }

  static bool IsUnit(const Expr& e) {
    return e.kind == Expr::Kind::kClass || e.kind == Expr::Kind::kRef ||
           (e.kind == Expr::Kind::kLit && e.lit.size() == 1);
  }

  void LowerInto(const Expr& e, std::vector<Elem>* seq) {
    switch (e.kind) {
      case Expr::Kind::kSeq:
        for (const Expr& k : e.kids) LowerInto(k, seq);
        return;
      case Expr::Kind::kAlt:
        if (e.kids.size() == 1) return LowerInto(e.kids[0], seq);
        seq->push_back(Elem{ElemKind::kRule, Helper(e, "alt")});
        return;
      case Expr::Kind::kLit:
        for (char c : e.lit) {
          uint8_t b = static_cast<uint8_t>(c);
          seq->push_back(Bytes(RangeSet(b, b)));
        }
        return;
      case Expr::Kind::kClass: {
        bool ascii = e.ranges.empty() || e.ranges.back().hi < 0x80;
        if (ascii) {
          ByteSet s{};
          for (const CpRange& r : e.ranges) {
            ByteSet p = RangeSet(static_cast<uint8_t>(r.lo), static_cast<uint8_t>(r.hi));
            for (int i = 0; i < 4; ++i) s[i] |= p[i];
          }
          seq->push_back(Bytes(s));
        } else {
          seq->push_back(Elem{ElemKind::kRule, ClassRule(e.ranges)});
        }
        return;
      }
      case Expr::Kind::kRef:
        seq->push_back(Elem{ElemKind::kRule, e.rule});
        return;
      case Expr::Kind::kRepeat:
        LowerRepeat(e, seq);
        return;
    }
  }

  // x{m,n} (see expr.h): the optional part is the chain R_k ::= x R_{k-1} | with
  // R_1 ::= x |, an unbounded one the loop S ::= x S |; with m >= 2 the mandatory
  // part is the chain M_j ::= x M_{j-1} with M_1 ::= x R_{n-m} (or x S, or x).
  void LowerRepeat(const Expr& e, std::vector<Elem>* seq) {
    Expr unit = IsUnit(e.kids[0]) ? e.kids[0] : Expr::Ref(Helper(e.kids[0], "group"));
    std::vector<Elem> body;
    LowerInto(unit, &body);  // one element
    int32_t tail = -1;       // the rule after the mandatory copies
    if (e.max < 0) {
      tail = NewRule("star");
      std::vector<Elem> loop = body;
      loop.push_back(Elem{ElemKind::kRule, tail});
      alts_[tail] = {std::move(loop), {}};
    } else if (e.max > e.min) {
      tail = Chain(body, e.max - e.min, -1, /*optional=*/true);
    }
    if (e.min >= 2) {
      seq->push_back(Elem{ElemKind::kRule, Chain(body, e.min, tail, /*optional=*/false)});
      return;
    }
    if (e.min == 1) seq->insert(seq->end(), body.begin(), body.end());
    if (tail >= 0) seq->push_back(Elem{ElemKind::kRule, tail});
  }

  // Rules for levels 1..n (level 1 continues with rule `last` if >= 0), each with
  // an empty alternative if `optional`; returns the top level's rule.
  int32_t Chain(const std::vector<Elem>& body, int32_t n, int32_t last, bool optional) {
    RepeatChain c;
    int32_t prev = last;
    for (int32_t k = 1; k <= n; ++k) {
      int32_t r = NewRule(optional ? "opt" : "rep");
      std::vector<Elem> alt = body;
      if (prev >= 0) alt.push_back(Elem{ElemKind::kRule, prev});
      alts_[r] = {std::move(alt)};
      if (optional) alts_[r].emplace_back();
      c.rules.push_back(r);
      prev = r;
    }
    chains_.push_back(std::move(c));
    return prev;
  }

  std::vector<std::string> names_;
  std::vector<std::vector<std::vector<Elem>>> alts_;
  std::vector<ByteSet> sets_;
  std::map<ByteSet, int32_t> set_ids_;
  std::map<std::vector<std::pair<char32_t, char32_t>>, int32_t> class_rules_;
  std::vector<RepeatChain> chains_;
};

}  // namespace

void AppendUtf8(char32_t c, std::string* out) {
  uint8_t b[4];
  int n = EncodeUtf8(c, b);
  out->append(reinterpret_cast<const char*>(b), static_cast<size_t>(n));
}

std::vector<CpRange> NormalizeRanges(std::vector<CpRange> r, bool negate) {
  std::sort(r.begin(), r.end(), [](const CpRange& a, const CpRange& b) { return a.lo < b.lo; });
  std::vector<CpRange> m;
  for (const CpRange& x : r) {
    if (x.lo > x.hi) continue;
    if (!m.empty() && x.lo <= m.back().hi + 1) {
      m.back().hi = std::max(m.back().hi, x.hi);
    } else {
      m.push_back(x);
    }
  }
  if (negate) {
    std::vector<CpRange> c;
    char32_t next = 0;
    for (const CpRange& x : m) {
      if (x.lo > next) c.push_back({next, x.lo - 1});
      next = x.hi + 1;
    }
    if (next <= kMaxCp) c.push_back({next, kMaxCp});
    m = std::move(c);
  }
  std::vector<CpRange> out;  // without surrogates, clipped to kMaxCp
  for (CpRange x : m) {
    x.hi = std::min(x.hi, kMaxCp);
    if (x.lo > x.hi) continue;
    if (x.lo < 0xD800 && x.hi >= 0xD800) {
      out.push_back({x.lo, 0xD7FF});
      x.lo = 0xE000;
    } else if (x.lo >= 0xD800 && x.lo <= 0xDFFF) {
      x.lo = 0xE000;
    }
    if (x.lo <= x.hi) out.push_back(x);
  }
  return out;
}

Expr Expr::Lit(std::string s) {
  Expr e;
  e.kind = Kind::kLit;
  e.lit = std::move(s);
  return e;
}
Expr Expr::Class(std::vector<CpRange> r, bool negate) {
  Expr e;
  e.kind = Kind::kClass;
  e.ranges = NormalizeRanges(std::move(r), negate);
  return e;
}
Expr Expr::Ref(int32_t rule) {
  Expr e;
  e.kind = Kind::kRef;
  e.rule = rule;
  return e;
}
Expr Expr::Seq(std::vector<Expr> kids) {
  if (kids.size() == 1) return std::move(kids[0]);
  Expr e;
  e.kind = Kind::kSeq;
  e.kids = std::move(kids);
  return e;
}
Expr Expr::Alt(std::vector<Expr> kids) {
  if (kids.size() == 1) return std::move(kids[0]);
  Expr e;
  e.kind = Kind::kAlt;
  e.kids = std::move(kids);
  return e;
}
Expr Expr::Repeat(Expr x, int32_t min, int32_t max) {
  Expr e;
  e.kind = Kind::kRepeat;
  e.kids.push_back(std::move(x));
  e.min = min;
  e.max = max;
  return e;
}

int32_t GrammarBuilder::Rule(const std::string& name) {
  auto [it, fresh] = by_name_.emplace(name, static_cast<int32_t>(names_.size()));
  if (fresh) {
    names_.push_back(name);
    bodies_.emplace_back();
    defined_.push_back(false);
  }
  return it->second;
}

int32_t GrammarBuilder::NewRule(const std::string& hint) {
  std::string name = hint;
  for (int i = 1; by_name_.count(name) != 0; ++i) name = hint + "-" + std::to_string(i);
  return Rule(name);
}

void GrammarBuilder::Define(int32_t rule, Expr body) {
  bodies_[rule] = std::move(body);
  defined_[rule] = true;
}

Result<GrammarPtr> GrammarBuilder::Build(int32_t root, const std::string& where) {
  for (size_t r = 0; r < names_.size(); ++r) {
    if (!defined_[r]) return InvalidArgument(where + ": rule '" + names_[r] + "' is used but not defined");
  }
  Lowerer lw(names_, names_.size());
  for (size_t r = 0; r < names_.size(); ++r) lw.LowerRule(static_cast<int32_t>(r), bodies_[r]);
  Grammar::Data d = lw.Finish(root);
  std::vector<int32_t> min_bytes = MinBytes(d);
  AX_RETURN_IF_ERROR(CheckLeftRecursion(d, min_bytes, where));
  // Keep the chains whose unit matches at least one byte (token_cache.h relies on it).
  std::vector<RepeatChain> chains;
  for (RepeatChain& c : d.chains) {
    const Elem& unit = d.elems[d.alts[c.rules[0]][0]];
    c.unit_min_bytes = unit.kind == ElemKind::kBytes ? 1 : min_bytes[unit.arg];
    if (c.unit_min_bytes > 0) chains.push_back(std::move(c));
  }
  d.chains = std::move(chains);
  return GrammarPtr(std::make_shared<const Grammar>(std::move(d)));
}

}  // namespace ax::constrain
