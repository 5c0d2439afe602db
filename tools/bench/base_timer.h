#pragma once

#include <chrono>

namespace ax::cli {

inline double NowSecondsForCli() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace ax::cli
