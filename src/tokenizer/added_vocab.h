// Added tokens (tokenizer.json "added_tokens"), matched in the input before
// the model sees it, with Hugging Face's AddedVocabulary semantics:
//   1. tokens with normalized=false are found in the raw text;
//   2. every remaining gap is normalized, then tokens with normalized=true are
//      found in it (their patterns are the normalized token contents).
// Matching is leftmost-longest and non-overlapping (HF uses Aho-Corasick with
// MatchKind::LeftmostLongest); single_word rejects matches touching a word
// character (Rust's \w), lstrip/rstrip extend a match over adjacent White_Space.
//
//   "Hi<|im_start|>user"  ->  ["Hi"] [<|im_start|> = 151644] ["user"]
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ax::tok {

class Normalizer;

struct AddedToken {
  std::string content;
  // What decoding and IdToPiece show: the content, normalized when the token is
  // normalized (HF stores normalized tokens that way; lookups by content still
  // use the original spelling). Filled in by AddedVocabulary::Build.
  std::string decoded;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
  bool normalized = true;
};

// One part of the input after added-token extraction: an added token (id >= 0)
// or normalized text for the pre-tokenizer and model.
struct Segment {
  std::string text;
  int32_t id = -1;
  bool at_origin = false;  // starts at offset 0 of the input
};

class AddedVocabulary {
 public:
  // `normalizer` may be null; it also normalizes the patterns of normalized tokens.
  void Build(std::vector<AddedToken> tokens, const Normalizer* normalizer);

  // Splits `text` (valid UTF-8) into segments; gaps come out normalized.
  // Empty gaps are dropped.
  void ExtractAndNormalize(std::string_view text, std::vector<Segment>* out) const;

  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  // A byte trie of token patterns with leftmost-longest search.
  struct Trie {
    struct Node {
      int32_t first_child = -1;
      int32_t next_sibling = -1;
      int32_t token = -1;  // index into tokens_ of the pattern ending here
      uint8_t byte = 0;
    };
    Trie() { nodes.resize(1); }  // node 0 is the root
    std::vector<Node> nodes;
    std::array<bool, 256> first_byte{};
    bool empty = true;
    void Insert(std::string_view pattern, int32_t token);
    // Longest pattern starting at text[pos]: returns its end, or 0 if none.
    size_t LongestAt(std::string_view text, size_t pos, int32_t* token) const;
  };
  struct Match {
    size_t begin, end;
    int32_t token;  // -1 for a gap
  };
  void FindMatches(std::string_view text, const Trie& trie, std::vector<Match>* out) const;

  std::vector<AddedToken> tokens_;
  const Normalizer* normalizer_ = nullptr;
  Trie raw_trie_;
  Trie normalized_trie_;
};

}  // namespace ax::tok
