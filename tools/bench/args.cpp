#include "args.h"

#include <cerrno>
#include <cstdlib>

namespace ax::cli {

Result<Args> Args::Parse(int argc, char** argv, int first, const std::set<std::string>& known_values,
                         const std::set<std::string>& known_flags, size_t max_positional) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      if (a.positional_.size() >= max_positional) return InvalidArgument("unexpected argument '" + arg + "'");
      a.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> inline_value;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      inline_value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (known_flags.count(name)) {
      if (inline_value) return InvalidArgument("--" + name + " takes no value");
      a.flags_.insert(name);
    } else if (known_values.count(name)) {
      if (inline_value) {
        a.values_[name] = *inline_value;
      } else {
        if (i + 1 >= argc) return InvalidArgument("--" + name + " expects a value");
        a.values_[name] = argv[++i];
      }
    } else {
      return InvalidArgument("unknown option --" + name);
    }
  }
  return a;
}

std::optional<std::string> Args::Get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string Args::GetOr(const std::string& name, const std::string& def) const {
  return Get(name).value_or(def);
}

Result<int64_t> Args::Int(const std::string& name, int64_t def) const {
  auto v = Get(name);
  if (!v) return def;
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(v->c_str(), &end, 10);
  if (errno != 0 || end == v->c_str() || *end != '\0')
    return InvalidArgument("--" + name + " '" + *v + "': expected an integer");
  return static_cast<int64_t>(x);
}

Result<double> Args::Double(const std::string& name, double def) const {
  auto v = Get(name);
  if (!v) return def;
  errno = 0;
  char* end = nullptr;
  const double x = std::strtod(v->c_str(), &end);
  if (errno != 0 || end == v->c_str() || *end != '\0')
    return InvalidArgument("--" + name + " '" + *v + "': expected a number");
  return x;
}

Result<std::vector<int32_t>> Args::IntList(const std::string& name) const {
  std::vector<int32_t> out;
  auto v = Get(name);
  if (!v) return out;
  const std::string& s = *v;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    const std::string item = s.substr(pos, comma - pos);
    char* end = nullptr;
    errno = 0;
    const long x = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || errno != 0 || *end != '\0' || x < INT32_MIN || x > INT32_MAX)
      return InvalidArgument("--" + name + ": '" + item + "' is not an integer (expected e.g. 1,2,3)");
    out.push_back(static_cast<int32_t>(x));
    pos = comma + 1;
  }
  return out;
}

}  // namespace ax::cli
