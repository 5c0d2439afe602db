// Status and Result<T>: the error currency of every boundary that sees user input
// (files, HTTP, tokens) and of the public API. No exceptions cross include/ax.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace ax {

enum class StatusCode {
  kOk,
  kInvalidArgument,  // the caller passed something malformed (names the field)
  kNotFound,         // a file, tensor or id that does not exist
  kDataLoss,         // a file exists but its bytes are corrupt or truncated
  kUnimplemented,    // valid input we do not support (yet): unknown architecture, dtype
  kResourceExhausted,// memory, KV blocks, queue
  kFailedPrecondition,
  kCancelled,
  kInternal,
  kUnavailable,      // a delegated route's upstream is unreachable or failed (HTTP 502)
  kDeadlineExceeded, // a delegated route's upstream did not answer in time (HTTP 504)
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "InvalidArgument: config.json: field 'hidden_size' ..."
  std::string ToString() const;

  // Returns a copy whose message is "prefix: message" (adds where-context on the way up).
  Status WithPrefix(const std::string& prefix) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }

// Result<T>: a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {     // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok() && "Result constructed from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ax

// Propagation helpers.
#define AX_RETURN_IF_ERROR(expr)              \
  do {                                        \
    ::ax::Status ax_status_ = (expr);         \
    if (!ax_status_.ok()) return ax_status_;  \
  } while (0)

#define AX_CONCAT_INNER_(a, b) a##b
#define AX_CONCAT_(a, b) AX_CONCAT_INNER_(a, b)
// lhs is a declaration (`auto x`) and tmp a fresh name: neither can be parenthesised.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define AX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
// AX_ASSIGN_OR_RETURN(auto x, MakeX());
#define AX_ASSIGN_OR_RETURN(lhs, expr) AX_ASSIGN_OR_RETURN_IMPL_(AX_CONCAT_(ax_result_, __LINE__), lhs, expr)
