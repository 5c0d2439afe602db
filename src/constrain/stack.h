// Persistent grammar stacks for the byte-level pushdown matcher. Internal.
//
// A stack is a node id; node = (pos, parent): the next element to match is
// elems[pos] and, when pos's alternative ends, matching continues at `parent`.
// Nodes are immutable and shared (hash-consed on (pos, parent)), so the set of
// live stacks after any prefix is a small sorted vector of node ids.
//
//   root ::= "a" item ","      item ::= [0-9] item |      (after "a1")
//        node 7 (pos of [0-9] in item)  ->  node 5 (pos of "," in root) -> kAccept
//        node 8 (pos of "," in root)    ->  kAccept
//
// Two sentinel ids: kAccept (the empty stack: the root rule is complete) and
// kContext (the unknown rest of a stack; the token cache walks one grammar
// position with kContext below it). A node whose pos is a kEnd is never made:
// Make elides it to its parent, so right recursion does not grow stacks.
//
// Undo: nodes and memoised expansions are append-only; Mark/Truncate restore an
// earlier size in O(what was added), which gives O(bytes) rollback.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "constrain/grammar.h"

namespace ax::constrain {

class StackPool {
 public:
  static constexpr int32_t kAccept = 0;
  static constexpr int32_t kContext = 1;

  explicit StackPool(const Grammar* g);

  // Sets `out` to the stacks after matching byte b from any stack of `in` (sorted, unique).
  void Advance(const std::vector<int32_t>& in, uint8_t b, std::vector<int32_t>* out);
  // Appends the byte-ready stacks reachable from stack `node` (top is a byte set,
  // or a sentinel). `out` is not sorted.
  void Expand(int32_t node, std::vector<int32_t>* out);
  // The stacks at the start of the grammar, or of a position (with kContext below).
  std::vector<int32_t> Start(int32_t pos_or_root_rule, bool is_rule);

  // The node (pos, parent), made on first use (a kEnd pos elides to `parent`).
  int32_t Make(int32_t pos, int32_t parent);
  int32_t pos(int32_t node) const { return nodes_[node].pos; }
  int32_t parent(int32_t node) const { return nodes_[node].parent; }

  struct Mark {
    size_t nodes, memo_log, memo_data;
  };
  Mark GetMark() const { return {nodes_.size(), memo_log_.size(), memo_data_.size()}; }
  void Truncate(const Mark& m);
  size_t num_nodes() const { return nodes_.size(); }

 private:
  struct Node {
    int32_t pos, parent;
  };
  static uint64_t Key(int32_t pos, int32_t parent) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(pos)) << 32) | static_cast<uint32_t>(parent);
  }

  const Grammar* g_;
  std::vector<Node> nodes_;
  std::unordered_map<uint64_t, int32_t> index_;
  // Memoised Expand of rule-reference nodes: memo_[node] = {offset, count} into
  // memo_data_, or {-1, 0}; memo_log_ lists the nodes memoised, in order.
  std::vector<std::pair<int32_t, int32_t>> memo_;
  std::vector<int32_t> memo_data_;
  std::vector<int32_t> memo_log_;
};

}  // namespace ax::constrain
