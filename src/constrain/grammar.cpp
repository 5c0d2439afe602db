#include "constrain/grammar.h"

#include <cstdio>

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
