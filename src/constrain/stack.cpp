#include "constrain/stack.h"

#include <algorithm>

namespace ax::constrain {

StackPool::StackPool(const Grammar* g) : g_(g) {
  nodes_.push_back({-1, -1});  // kAccept
  nodes_.push_back({-1, -1});  // kContext
  memo_.assign(2, {-1, 0});
  index_.reserve(1024);
}

int32_t StackPool::Make(int32_t pos, int32_t parent) {
  if (g_->elems()[pos].kind == ElemKind::kEnd) return parent;
  auto [it, fresh] = index_.emplace(Key(pos, parent), static_cast<int32_t>(nodes_.size()));
  if (fresh) {
    nodes_.push_back({pos, parent});
    memo_.push_back({-1, 0});
  }
  return it->second;
}

void StackPool::Expand(int32_t node, std::vector<int32_t>* out) {
  if (node == kAccept || node == kContext) {
    out->push_back(node);
    return;
  }
  const Node n = nodes_[node];
  const Elem& e = g_->elems()[n.pos];
  if (e.kind == ElemKind::kBytes) {
    out->push_back(node);
    return;
  }
  // e is a rule reference (kEnd nodes are never made).
  if (memo_[node].first >= 0) {
    auto [off, cnt] = memo_[node];
    out->insert(out->end(), memo_data_.begin() + off, memo_data_.begin() + off + cnt);
    return;
  }
  std::vector<int32_t> local;
  int32_t cont = Make(n.pos + 1, n.parent);
  for (int32_t alt : g_->alts(e.arg)) Expand(Make(alt, cont), &local);
  std::sort(local.begin(), local.end());
  local.erase(std::unique(local.begin(), local.end()), local.end());
  memo_[node] = {static_cast<int32_t>(memo_data_.size()), static_cast<int32_t>(local.size())};
  memo_log_.push_back(node);
  memo_data_.insert(memo_data_.end(), local.begin(), local.end());
  out->insert(out->end(), local.begin(), local.end());
}

void StackPool::Advance(const std::vector<int32_t>& in, uint8_t b, std::vector<int32_t>* out) {
  out->clear();
  const std::vector<Elem>& elems = g_->elems();
  for (int32_t node : in) {
    if (node == kAccept || node == kContext) continue;
    const Node n = nodes_[node];
    if (!ByteSetHas(g_->byte_set(elems[n.pos].arg), b)) continue;
    Expand(Make(n.pos + 1, n.parent), out);
  }
  if (out->size() > 1) {
    std::sort(out->begin(), out->end());
    out->erase(std::unique(out->begin(), out->end()), out->end());
  }
}

std::vector<int32_t> StackPool::Start(int32_t pos_or_root_rule, bool is_rule) {
  std::vector<int32_t> out;
  if (is_rule) {
    for (int32_t alt : g_->alts(pos_or_root_rule)) Expand(Make(alt, kAccept), &out);
  } else {
    Expand(Make(pos_or_root_rule, kContext), &out);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void StackPool::Truncate(const Mark& m) {
  for (size_t i = m.memo_log; i < memo_log_.size(); ++i) {
    int32_t node = memo_log_[i];
    if (static_cast<size_t>(node) < m.nodes) memo_[node] = {-1, 0};
  }
  memo_log_.resize(m.memo_log);
  memo_data_.resize(m.memo_data);
  for (size_t i = m.nodes; i < nodes_.size(); ++i) index_.erase(Key(nodes_[i].pos, nodes_[i].parent));
  nodes_.resize(m.nodes);
  memo_.resize(m.nodes);
}

}  // namespace ax::constrain
