// Result<T>: the value of an operation that can fail for ordinary reasons (bad input, unknown
// id, wrong key). Exceptions stay for bugs and for failures that end the command.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace x420 {

// Each kind maps to one CLI exit code and one HTTP status (DESIGN.md, "CLI").
enum class ErrorKind {
  usage,        // bad input or flag: exit 2, HTTP 400
  auth,         // missing, wrong, revoked or expired credential: exit 3, HTTP 401
  forbidden,    // authenticated but not allowed: exit 3, HTTP 403
  not_found,    // no such id or name: exit 4, HTTP 404
  conflict,     // already exists: exit 2, HTTP 409
  unavailable,  // service or store unreachable: exit 5, HTTP 503
  internal,     // a bug or a broken store: exit 70, HTTP 500
};

// The message names the thing that was wrong and, where there is one, the next step. It never
// carries a secret, a key hash or user text.
struct Error {
  ErrorKind kind;
  std::string message;
};

int exit_code_for(ErrorKind kind);
const char* kind_name(ErrorKind kind);

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

inline Error make_error(ErrorKind kind, std::string message) { return Error{kind, std::move(message)}; }

// Thrown where a failure ends the command (a broken store, a missing master key); main() turns
// it into the exit code of its kind.
class Fatal : public std::exception {
 public:
  explicit Fatal(Error e) : error_(std::move(e)) {}
  Fatal(ErrorKind kind, std::string message) : error_{kind, std::move(message)} {}
  const char* what() const noexcept override { return error_.message.c_str(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
};

}  // namespace x420
