#include "model/json_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <exception>

namespace ax {
namespace {

std::string ErrnoText(int err) { return std::strerror(err); }

// Deepest [ / { nesting of `text`, ignoring brackets inside strings. Stops counting
// (returns limit + 1) once past `limit`.
int NestingDepth(std::string_view text, int limit) {
  int depth = 0, max_depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) max_depth = depth;
      if (max_depth > limit) return limit + 1;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return max_depth;
}

// Parse errors quote the bytes they stopped at, which may be invalid UTF-8 or control
// characters: escape those so that messages stay printable, valid UTF-8.
std::string Printable(const std::string& s) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace

Result<std::string> ReadFileToString(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) return NotFound(path + ": no such file");
    return InvalidArgument(path + ": cannot open: " + ErrnoText(err));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgument(path + ": not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return InvalidArgument(path + ": file is " + std::to_string(st.st_size) +
                           " bytes, more than the " + std::to_string(max_bytes) + "-byte limit");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

Result<Json> ParseJson(std::string_view text, const std::string& path, StatusCode code,
                       int max_depth) {
  if (NestingDepth(text, max_depth) > max_depth) {
    return Status(code, path + ": invalid JSON: nesting deeper than " +
                            std::to_string(max_depth) + " levels");
  }
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.what(): "[json.exception.parse_error.101] parse error at line 1, column 9: ..."
    std::string what = e.what();
    const size_t close = what.find("] ");
    if (what.rfind("[json.exception.", 0) == 0 && close != std::string::npos) {
      what = what.substr(close + 2);
    }
    return Status(code, path + ": invalid JSON: " + Printable(what));
  } catch (const std::exception& e) {
    return Status(code, path + ": invalid JSON: " + Printable(e.what()));
  }
}

Result<Json> ReadJsonFile(const std::string& path) {
  AX_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseJson(text, path);
}

std::string JsonPreview(const Json& j) {
  std::string s;
  try {
    s = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  } catch (const std::exception&) {
    s = "<unprintable>";
  }
  if (s.size() > 60) {
    size_t cut = 57;  // do not split a UTF-8 sequence
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
    s = s.substr(0, cut) + "...";
  }
  return s;
}

bool JsonToInt64(const Json& j, int64_t* out) {
  if (j.is_number_unsigned()) {
    const uint64_t v = j.get<uint64_t>();
    if (v > static_cast<uint64_t>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
    return true;
  }
  if (j.is_number_integer()) {
    *out = j.get<int64_t>();
    return true;
  }
  if (j.is_number_float()) {
    const double d = j.get<double>();
    if (!std::isfinite(d) || d != std::floor(d) || std::fabs(d) > 9007199254740992.0) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

bool JsonToUint64(const Json& j, uint64_t* out) {
  if (j.is_number_unsigned()) {
    *out = j.get<uint64_t>();
    return true;
  }
  if (j.is_number_integer()) {
    const int64_t v = j.get<int64_t>();
    if (v < 0) return false;
    *out = static_cast<uint64_t>(v);
    return true;
  }
  return false;
}

Status WriteStringToFile(const std::string& path, std::string_view text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return InvalidArgument(path + ": cannot create: " + ErrnoText(errno));
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      return InvalidArgument(path + ": write failed: " + ErrnoText(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return InvalidArgument(path + ": close failed: " + ErrnoText(errno));
  return Status::Ok();
}

}  // namespace ax
