// A small command-line parser: --name value and --flag, with typed getters that
// report which flag was malformed.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "ax/status.h"

namespace ax::cli {

class Args {
 public:
  // `flags` are the options that take no value; every other --x takes one. Up to
  // `max_positional` arguments that are not options are kept in order (positional()).
  static Result<Args> Parse(int argc, char** argv, int first, const std::set<std::string>& known_values,
                            const std::set<std::string>& known_flags, size_t max_positional = 0);

  bool Has(const std::string& name) const { return values_.count(name) > 0 || flags_.count(name) > 0; }
  std::optional<std::string> Get(const std::string& name) const;
  std::string GetOr(const std::string& name, const std::string& def) const;
  Result<int64_t> Int(const std::string& name, int64_t def) const;
  Result<double> Double(const std::string& name, double def) const;
  Result<std::vector<int32_t>> IntList(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
};

}  // namespace ax::cli
