#include "tokenizer/added_vocab.h"

#include <algorithm>

#include "tokenizer/normalizers.h"
#include "tokenizer/unicode.h"
#include "tokenizer/utf8.h"

namespace ax::tok {
namespace {

// Last code point of text[0:end) (end > 0).
char32_t LastCodePoint(std::string_view text, size_t end, size_t* start) {
  size_t b = end - 1;
  while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
  *start = b;
  size_t i = b;
  return NextCodePoint(text, i);
}

bool EndsWithWord(std::string_view text, size_t end) {
  if (end == 0) return false;
  size_t start;
  return IsWordChar(LastCodePoint(text, end, &start));
}

bool StartsWithWord(std::string_view text, size_t begin) {
  if (begin >= text.size()) return false;
  size_t i = begin;
  return IsWordChar(NextCodePoint(text, i));
}

// Start of the run of White_Space that ends at `end` (HF: \s*$ on text[..end]).
size_t SpaceRunStart(std::string_view text, size_t end) {
  while (end > 0) {
    size_t start;
    if (!IsWhiteSpace(LastCodePoint(text, end, &start))) break;
    end = start;
  }
  return end;
}

// End of the run of White_Space that starts at `begin` (HF: ^\s* on text[begin..]).
size_t SpaceRunEnd(std::string_view text, size_t begin) {
  while (begin < text.size()) {
    size_t i = begin;
    if (!IsWhiteSpace(NextCodePoint(text, i))) break;
    begin = i;
  }
  return begin;
}

}  // namespace

void AddedVocabulary::Trie::Insert(std::string_view pattern, int32_t token) {
  if (pattern.empty()) return;
  empty = false;
  first_byte[static_cast<uint8_t>(pattern[0])] = true;
  int32_t node = 0;
  for (char ch : pattern) {
    auto c = static_cast<uint8_t>(ch);
    int32_t child = nodes[node].first_child;
    while (child >= 0 && nodes[child].byte != c) child = nodes[child].next_sibling;
    if (child < 0) {
      Node n;
      n.byte = c;
      n.next_sibling = nodes[node].first_child;
      nodes.push_back(n);
      child = static_cast<int32_t>(nodes.size() - 1);
      nodes[node].first_child = child;
    }
    node = child;
  }
  // Aho-Corasick prefers the earlier pattern among equal ones.
  if (nodes[node].token < 0) nodes[node].token = token;
}

size_t AddedVocabulary::Trie::LongestAt(std::string_view text, size_t pos, int32_t* token) const {
  int32_t node = 0;
  size_t best = 0;
  for (size_t i = pos; i < text.size(); ++i) {
    auto c = static_cast<uint8_t>(text[i]);
    int32_t child = nodes[node].first_child;
    while (child >= 0 && nodes[child].byte != c) child = nodes[child].next_sibling;
    if (child < 0) break;
    node = child;
    if (nodes[node].token >= 0) {
      best = i + 1;
      *token = nodes[node].token;
    }
  }
  return best;
}

void AddedVocabulary::Build(std::vector<AddedToken> tokens, const Normalizer* normalizer) {
  normalizer_ = normalizer;
  // HF's trie order: special tokens first, then the others, each in file order.
  std::stable_partition(tokens.begin(), tokens.end(), [](const AddedToken& t) { return t.special; });
  tokens_ = std::move(tokens);
  for (size_t i = 0; i < tokens_.size(); ++i) {
    AddedToken& t = tokens_[i];
    t.decoded = t.content;
    if (t.normalized) {
      std::string pattern = t.content;
      if (normalizer_ != nullptr) normalizer_->Normalize(&pattern);
      t.decoded = pattern;
      normalized_trie_.Insert(pattern, static_cast<int32_t>(i));
    } else {
      raw_trie_.Insert(t.content, static_cast<int32_t>(i));
    }
  }
}

// HF's AddedVocabulary::find_matches: a cover of `text` by gaps and matches.
void AddedVocabulary::FindMatches(std::string_view text, const Trie& trie, std::vector<Match>* out) const {
  out->clear();
  size_t start_offset = 0;
  size_t pos = 0;
  while (pos < text.size() && !trie.empty) {
    if (!trie.first_byte[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    int32_t ti = -1;
    size_t end = trie.LongestAt(text, pos, &ti);
    if (end == 0) {
      ++pos;
      continue;
    }
    size_t start = pos;
    size_t stop = end;
    pos = end;  // the search resumes after the match, accepted or not
    const AddedToken& t = tokens_[ti];
    if (t.single_word) {
      bool start_space = start == 0 || !EndsWithWord(text, start);
      bool stop_space = stop == text.size() || !StartsWithWord(text, stop);
      if (!start_space || !stop_space) continue;
    }
    if (t.lstrip) start = std::max(SpaceRunStart(text, start), start_offset);
    if (t.rstrip) stop = SpaceRunEnd(text, stop);
    if (start_offset < start) out->push_back({start_offset, start, -1});
    out->push_back({start, stop, ti});
    start_offset = stop;
  }
  if (start_offset < text.size()) out->push_back({start_offset, text.size(), -1});
}

void AddedVocabulary::ExtractAndNormalize(std::string_view text, std::vector<Segment>* out) const {
  out->clear();
  std::vector<Match> raw, norm;
  FindMatches(text, raw_trie_, &raw);
  for (const Match& m : raw) {
    if (m.end <= m.begin) continue;
    if (m.token >= 0) {
      out->push_back({std::string(text.substr(m.begin, m.end - m.begin)), tokens_[m.token].id, m.begin == 0});
      continue;
    }
    std::string gap(text.substr(m.begin, m.end - m.begin));
    if (normalizer_ != nullptr) normalizer_->Normalize(&gap);
    FindMatches(gap, normalized_trie_, &norm);
    for (const Match& n : norm) {
      if (n.end <= n.begin) continue;
      out->push_back({gap.substr(n.begin, n.end - n.begin), n.token >= 0 ? tokens_[n.token].id : -1,
                      m.begin == 0 && n.begin == 0});
    }
  }
}

}  // namespace ax::tok
