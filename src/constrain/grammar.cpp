// Grammar::Dump, the per-vocabulary cache registry, and the structural analyses
// GrammarBuilder::Build runs (minimum match lengths, left recursion).
#include "constrain/grammar.h"

#include <algorithm>
#include <cstdio>
#include <functional>

#include "constrain/expr.h"
#include "constrain/token_cache.h"

namespace ax::constrain {
namespace {

void AppendByte(int b, std::string* out) {
  if (b >= 0x21 && b < 0x7F && b != '\\' && b != ']' && b != '-' && b != '^' && b != '"') {
    out->push_back(static_cast<char>(b));
  } else {
    char buf[8];
    std::snprintf(buf, sizeof buf, "\\x%02X", b);
    *out += buf;
  }
}

std::string DumpSet(const ByteSet& s) {
  std::string out = "[";
  for (int b = 0; b < 256;) {
    if (!ByteSetHas(s, static_cast<uint8_t>(b))) {
      ++b;
      continue;
    }
    int e = b;
    while (e + 1 < 256 && ByteSetHas(s, static_cast<uint8_t>(e + 1))) ++e;
    AppendByte(b, &out);
    if (e > b) {
      out += '-';
      AppendByte(e, &out);
    }
    b = e + 1;
  }
  return out + "]";
}

}  // namespace

std::vector<int32_t> MinBytes(const Grammar::Data& d) {
  std::vector<int32_t> m(d.alts.size(), kUnbounded);
  for (bool changed = true; changed;) {  // lengths only decrease
    changed = false;
    for (size_t r = 0; r < d.alts.size(); ++r) {
      for (int32_t p : d.alts[r]) {
        int64_t n = 0;
        for (; d.elems[p].kind != ElemKind::kEnd; ++p) {
          n += d.elems[p].kind == ElemKind::kBytes ? 1 : m[d.elems[p].arg];
        }
        if (n < m[r]) m[r] = static_cast<int32_t>(n), changed = true;
      }
    }
  }
  return m;
}

// A rule is left-recursive when it can reach itself before consuming a byte.
Status CheckLeftRecursion(const Grammar::Data& d, const std::vector<int32_t>& min_bytes, const std::string& where) {
  size_t n = d.alts.size();
  std::vector<std::vector<int32_t>> first(n);  // rules reachable before a byte
  for (size_t r = 0; r < n; ++r) {
    for (int32_t p : d.alts[r]) {
      for (; d.elems[p].kind == ElemKind::kRule; ++p) {
        first[r].push_back(d.elems[p].arg);
        if (min_bytes[d.elems[p].arg] != 0) break;
      }
    }
  }
  std::vector<int> color(n, 0);  // 0 new, 1 on the DFS path, 2 done
  std::function<int32_t(int32_t)> visit = [&](int32_t r) -> int32_t {
    color[r] = 1;
    for (int32_t s : first[r]) {
      if (color[s] == 1) return s;
      if (color[s] == 0) {
        int32_t c = visit(s);
        if (c >= 0) return c;
      }
    }
    color[r] = 2;
    return -1;
  };
  for (size_t r = 0; r < n; ++r) {
    if (color[r] != 0) continue;
    int32_t c = visit(static_cast<int32_t>(r));
    if (c >= 0) {
      return InvalidArgument(where + ": rule '" + d.rule_names[c] +
                             "' is left-recursive (it can reach itself before matching any "
                             "character; a repeated part that can match nothing does this too)");
    }
  }
  return Status::Ok();
}

std::string Grammar::Dump() const {
  std::string out;
  for (int32_t r = 0; r < num_rules(); ++r) {
    out += d_.rule_names[r] + " ::=";
    for (size_t a = 0; a < d_.alts[r].size(); ++a) {
      if (a > 0) out += " |";
      for (int32_t p = d_.alts[r][a]; d_.elems[p].kind != ElemKind::kEnd; ++p) {
        const Elem& e = d_.elems[p];
        out += ' ';
        out += e.kind == ElemKind::kRule ? d_.rule_names[e.arg] : DumpSet(d_.byte_sets[e.arg]);
      }
    }
    out += '\n';
  }
  return out;
}

std::shared_ptr<TokenCache> Grammar::CacheFor(const std::shared_ptr<const TokenVocab>& vocab) const {
  std::lock_guard<std::mutex> lock(cache_mu_);
  std::shared_ptr<TokenCache>& c = caches_[vocab.get()];
  if (c == nullptr) c = std::make_shared<TokenCache>(this, vocab);
  return c;
}

}  // namespace ax::constrain
