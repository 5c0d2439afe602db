// Minimal leveled logging to stderr. Level from AX_LOG_LEVEL (error|warn|info|debug).
#pragma once

#include <cstdarg>

namespace ax {

enum class LogLevel { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

LogLevel CurrentLogLevel();
void SetLogLevel(LogLevel level);
void Log(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

}  // namespace ax

#define AX_LOG_ERROR(...) ::ax::Log(::ax::LogLevel::kError, __VA_ARGS__)
#define AX_LOG_WARN(...) ::ax::Log(::ax::LogLevel::kWarn, __VA_ARGS__)
#define AX_LOG_INFO(...) ::ax::Log(::ax::LogLevel::kInfo, __VA_ARGS__)
#define AX_LOG_DEBUG(...) ::ax::Log(::ax::LogLevel::kDebug, __VA_ARGS__)
