#include "base/log.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ax {
namespace {

LogLevel LevelFromEnv() {
  const char* v = std::getenv("AX_LOG_LEVEL");
  if (v == nullptr) return LogLevel::kWarn;
  if (std::strcmp(v, "error") == 0) return LogLevel::kError;
  if (std::strcmp(v, "info") == 0) return LogLevel::kInfo;
  if (std::strcmp(v, "debug") == 0) return LogLevel::kDebug;
  return LogLevel::kWarn;
}

std::atomic<int>& LevelStorage() {
  static std::atomic<int> level{static_cast<int>(LevelFromEnv())};
  return level;
}

}  // namespace

LogLevel CurrentLogLevel() { return static_cast<LogLevel>(LevelStorage().load()); }
void SetLogLevel(LogLevel level) { LevelStorage().store(static_cast<int>(level)); }

void Log(LogLevel level, const char* fmt, ...) {
  if (static_cast<int>(level) > LevelStorage().load()) return;
  static const char* kNames[] = {"error", "warn", "info", "debug"};
  std::fprintf(stderr, "[ax %s] ", kNames[static_cast<int>(level)]);
  va_list args;
  va_start(args, fmt);
  std::vfprintf(stderr, fmt, args);
  va_end(args);
  std::fputc('\n', stderr);
}

}  // namespace ax
