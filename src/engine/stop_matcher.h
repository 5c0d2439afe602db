// StopMatcher: finds stop strings across token boundaries and holds back text that
// might be the start of one, so a stop string is never emitted.
//
// Example, stop "END": pushes "foo E" → emits "foo ", holds "E"; pushes "N" → holds
// "EN"; pushes "D!" → match: emits nothing more, stopped() is true. A later push of
// "x" after "E" instead releases "Ex".
#pragma once

#include <string>
#include <vector>

namespace ax {

class StopMatcher {
 public:
  explicit StopMatcher(std::vector<std::string> stops);

  // Adds decoded text; returns the part that can be emitted now.
  std::string Push(const std::string& text);
  // At the end of generation: the held-back text (when no stop matched).
  std::string Flush();
  bool stopped() const { return stopped_; }
  // The stop string that matched ("" before a match).
  const std::string& matched() const { return matched_; }

 private:
  std::vector<std::string> stops_;
  std::string held_;
  bool stopped_ = false;
  std::string matched_;
};

}  // namespace ax
