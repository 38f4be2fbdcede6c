// Status and Result<T>: recoverable errors as values, as in leveldb's status.h.
// A Status is cheap on success (no allocation). Errors carry a code, a message that says what,
// where and what to do, and whether retrying the same call may succeed. Thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace converge {

enum class Code {
  kOk,
  kInvalid,           // bad input: the user must change something
  kNotFound,
  kAlreadyExists,
  kConflict,          // concurrent modification or a refused change (e.g. deletion protection)
  kUnavailable,       // the other side is down or failing; usually retryable
  kTimeout,
  kPermissionDenied,  // authentication or authorization failed
  kCorrupt,           // stored data is damaged
  kUnsupported,       // e.g. a store written by a newer converge
  kInternal,
};

const char* CodeName(Code code);

class Status {
 public:
  Status() = default;

  static Status Ok() { return Status(); }
  static Status Invalid(std::string msg) { return Status(Code::kInvalid, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status AlreadyExists(std::string msg) { return Status(Code::kAlreadyExists, std::move(msg)); }
  static Status Conflict(std::string msg) { return Status(Code::kConflict, std::move(msg)); }
  // Unavailable errors are retryable unless said otherwise.
  static Status Unavailable(std::string msg, bool retryable = true) {
    return Status(Code::kUnavailable, std::move(msg), retryable);
  }
  static Status Timeout(std::string msg) { return Status(Code::kTimeout, std::move(msg), true); }
  static Status PermissionDenied(std::string msg) { return Status(Code::kPermissionDenied, std::move(msg)); }
  static Status Corrupt(std::string msg) { return Status(Code::kCorrupt, std::move(msg)); }
  static Status Unsupported(std::string msg) { return Status(Code::kUnsupported, std::move(msg)); }
  static Status Internal(std::string msg) { return Status(Code::kInternal, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }
  bool IsNotFound() const { return code_ == Code::kNotFound; }

  // Returns a copy whose message reads "prefix: message". Ok stays Ok.
  Status WithContext(const std::string& prefix) const;
  // "invalid: message" style text for logs.
  std::string ToString() const;

 private:
  Status(Code code, std::string msg, bool retryable = false)
      : code_(code), message_(std::move(msg)), retryable_(retryable) {}

  Code code_ = Code::kOk;
  std::string message_;
  bool retryable_ = false;
};

// Result<T> holds either a value or a non-ok Status.
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}                      // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}               // NOLINT: implicit by design

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

}  // namespace converge

// Returns the status from the enclosing function when `expr` is not ok.
#define CONVERGE_RETURN_IF_ERROR(expr)          \
  do {                                          \
    ::converge::Status _st = (expr);            \
    if (!_st.ok()) return _st;                  \
  } while (0)
