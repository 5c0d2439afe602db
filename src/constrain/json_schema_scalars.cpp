// JSON Schema -> grammar: strings (length, pattern, format), numbers and integers
// (bounds), and the grammar of any JSON value.
#include <cmath>

#include "constrain/json_schema.h"
#include "constrain/regex.h"

namespace ax::constrain {
namespace {

using Json = nlohmann::ordered_json;

Expr Digits() { return Expr::Class({{'0', '9'}}); }

// Numbers of exactly lo.size() == hi.size() digits in [lo, hi] (digit strings).
Expr SameLength(const std::string& lo, const std::string& hi) {
  if (lo.size() == 1) return Expr::Class({{static_cast<char32_t>(lo[0]), static_cast<char32_t>(hi[0])}});
  std::string lo_rest = lo.substr(1), hi_rest = hi.substr(1);
  if (lo[0] == hi[0]) return Expr::Seq({Expr::Lit(lo.substr(0, 1)), SameLength(lo_rest, hi_rest)});
  std::string nines(lo_rest.size(), '9'), zeros(lo_rest.size(), '0');
  if (lo_rest == zeros && hi_rest == nines) {
    return Expr::Seq({SameLength(lo.substr(0, 1), hi.substr(0, 1)),
                      Expr::Repeat(Digits(), static_cast<int32_t>(nines.size()), static_cast<int32_t>(nines.size()))});
  }
  std::vector<Expr> alts;
  alts.push_back(Expr::Seq({Expr::Lit(lo.substr(0, 1)), SameLength(lo_rest, nines)}));
  if (lo[0] + 1 <= hi[0] - 1) {
    alts.push_back(Expr::Seq({Expr::Class({{static_cast<char32_t>(lo[0] + 1), static_cast<char32_t>(hi[0] - 1)}}),
                              Expr::Repeat(Digits(), static_cast<int32_t>(nines.size()), static_cast<int32_t>(nines.size()))}));
  }
  alts.push_back(Expr::Seq({Expr::Lit(hi.substr(0, 1)), SameLength(zeros, hi_rest)}));
  return Expr::Alt(std::move(alts));
}

// Non-negative integers in [lo, hi] (hi < 0: unbounded); empty optional if none.
std::optional<Expr> NonNegative(int64_t lo, int64_t hi) {
  if (hi >= 0 && lo > hi) return std::nullopt;
  std::vector<Expr> alts;
  std::string los = std::to_string(lo);
  size_t max_len = hi < 0 ? los.size() : std::to_string(hi).size();
  for (size_t d = los.size(); d <= max_len; ++d) {
    std::string a = d == los.size() ? los : "1" + std::string(d - 1, '0');
    std::string b = hi >= 0 && d == max_len ? std::to_string(hi) : std::string(d, '9');
    alts.push_back(SameLength(a, b));
  }
  if (hi < 0) {  // every number with more digits
    alts.push_back(Expr::Seq({Expr::Class({{'1', '9'}}), Expr::Repeat(Digits(), static_cast<int32_t>(max_len), -1)}));
  }
  return Expr::Alt(std::move(alts));
}

constexpr int64_t kBig = int64_t{1} << 62;  // bounds beyond this are treated as open

}  // namespace

Expr IntegerRange(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  if (lo.has_value() && std::llabs(*lo) >= kBig) lo.reset();
  if (hi.has_value() && std::llabs(*hi) >= kBig) hi.reset();
  std::vector<Expr> alts;
  if (!hi.has_value() || *hi >= 0) {
    if (auto e = NonNegative(std::max<int64_t>(lo.value_or(0), 0), hi.value_or(-1))) alts.push_back(std::move(*e));
  }
  if (!lo.has_value() || *lo < 0) {  // "-" y, y in [max(1, -hi), -lo]
    int64_t ylo = std::max<int64_t>(1, hi.has_value() ? -*hi : 1);
    if (auto e = NonNegative(ylo, lo.has_value() ? -*lo : -1)) alts.push_back(Expr::Seq({Expr::Lit("-"), std::move(*e)}));
  }
  if (alts.empty()) return Expr::Class({});  // empty range: matches nothing
  return Expr::Alt(std::move(alts));
}

Result<Expr> SchemaCompiler::Number(const Json& s, bool integer, const std::string& path) {
  std::optional<double> lo, hi;
  bool lo_excl = false, hi_excl = false;
  for (const char* key : {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"}) {
    if (!s.contains(key)) continue;
    const Json& v = s[key];
    if (!v.is_number()) return InvalidArgument(path + "/" + key + ": expected a number");
    double x = v.get<double>();
    bool excl = key[0] == 'e';
    bool is_min = std::string(key).find("inimum") != std::string::npos;
    std::optional<double>& b = is_min ? lo : hi;
    bool& bx = is_min ? lo_excl : hi_excl;
    // The tighter of minimum/exclusiveMinimum wins (likewise for maximum).
    if (!b.has_value() || (is_min ? x > *b || (x == *b && excl) : x < *b || (x == *b && excl))) {
      b = x;
      bx = excl;
    }
  }
  if (integer) {
    std::optional<int64_t> ilo, ihi;
    if (lo) ilo = static_cast<int64_t>(lo_excl ? std::floor(*lo) + 1 : std::ceil(*lo));
    if (hi) ihi = static_cast<int64_t>(hi_excl ? std::ceil(*hi) - 1 : std::floor(*hi));
    if (ilo && ihi && *ilo > *ihi) return InvalidArgument(path + "/minimum: no integer in the range");
    return IntegerRange(ilo, ihi);
  }
  Expr frac = Expr::Opt(Expr::Seq({Expr::Lit("."), Expr::Plus(Digits())}));
  if (!lo && !hi) {
    Expr exp = Expr::Opt(Expr::Seq({Expr::Class({{'e', 'e'}, {'E', 'E'}}), Expr::Opt(Expr::Class({{'+', '+'}, {'-', '-'}})),
                                    Expr::Plus(Digits())}));
    return Expr::Seq({IntegerRange(std::nullopt, std::nullopt), frac, exp});
  }
  // Bounded numbers: integer-valued inclusive bounds, compiled exactly (no exponent).
  for (auto [b, excl, key] : {std::tuple{lo, lo_excl, "minimum"}, std::tuple{hi, hi_excl, "maximum"}}) {
    if (!b) continue;
    if (excl) {
      return InvalidArgument(path + "/exclusive" + std::string(1, static_cast<char>(key[0] - 32)) + (key + 1) +
                             ": exclusive bounds on type 'number' are unsupported (use 'integer' or an inclusive bound)");
    }
    if (*b != std::floor(*b) || std::fabs(*b) >= 1e15) {
      return InvalidArgument(path + "/" + key + ": only integer-valued bounds below 1e15 are supported on type 'number'");
    }
  }
  if (lo && hi && *lo > *hi) return InvalidArgument(path + "/minimum: greater than maximum");
  Expr zero_frac = Expr::Opt(Expr::Seq({Expr::Lit("."), Expr::Plus(Expr::Lit("0"))}));
  // |x| with integer part in [a, b): any fraction; == b: zero fraction (b < 0: open).
  auto magnitude = [&](int64_t a, int64_t b) -> std::optional<Expr> {
    std::vector<Expr> alts;
    if (b < 0 || a <= b - 1) {
      alts.push_back(Expr::Seq({IntegerRange(a, b < 0 ? std::nullopt : std::optional<int64_t>(b - 1)), frac}));
    }
    if (b >= 0 && b >= a) alts.push_back(Expr::Seq({Expr::Lit(std::to_string(b)), zero_frac}));
    if (alts.empty()) return std::nullopt;
    return Expr::Alt(std::move(alts));
  };
  std::vector<Expr> alts;
  int64_t ilo = lo ? static_cast<int64_t>(*lo) : 0, ihi = hi ? static_cast<int64_t>(*hi) : 0;
  if (!hi || ihi >= 0) {
    if (auto e = magnitude(lo ? std::max<int64_t>(ilo, 0) : 0, hi ? ihi : -1)) alts.push_back(std::move(*e));
  }
  if (!lo || ilo < 0) {
    // x = -y with y in [max(0, -hi), -lo]; y = 0 is "-0", equal to 0.
    if (auto e = magnitude(hi && ihi < 0 ? -ihi : 0, lo ? -ilo : -1)) alts.push_back(Expr::Seq({Expr::Lit("-"), std::move(*e)}));
  }
  return Expr::Alt(std::move(alts));
}

Result<Expr> SchemaCompiler::Format(const std::string& format, const std::string& path) {
  static const char* kDate = R"(\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01]))";
  static const char* kTime = R"(([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d))";
  std::string re;
  if (format == "date") {
    re = kDate;
  } else if (format == "time") {
    re = kTime;
  } else if (format == "date-time") {
    re = std::string(kDate) + "T" + kTime;
  } else if (format == "uuid") {
    re = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}";
  } else if (format == "email") {
    re = R"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
         R"(@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+)";
  } else if (format == "ipv4") {
    re = R"(((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d))";
  } else {
    return InvalidArgument(path + "/format: unsupported format '" + format +
                           "' (supported: date-time, date, time, uuid, email, ipv4)");
  }
  return ParseRegex(re, RegexOptions{.json_string = true, .search = false}, path + "/format");
}

Result<Expr> SchemaCompiler::String(const Json& s, const std::string& path) {
  auto length = [&](const char* key) -> Result<int32_t> {
    if (!s.contains(key)) return -1;
    const Json& v = s[key];
    if (!v.is_number_integer() || v.get<int64_t>() < 0) {
      return InvalidArgument(path + "/" + key + ": expected a non-negative integer");
    }
    if (v.get<int64_t>() > kMaxRepeat) {
      return InvalidArgument(path + "/" + key + ": values above " + std::to_string(kMaxRepeat) + " are unsupported");
    }
    return static_cast<int32_t>(v.get<int64_t>());
  };
  AX_ASSIGN_OR_RETURN(int32_t min, length("minLength"));
  AX_ASSIGN_OR_RETURN(int32_t max, length("maxLength"));
  if (min >= 0 && max >= 0 && min > max) return InvalidArgument(path + "/minLength: greater than maxLength");
  bool has_pattern = s.contains("pattern"), has_format = s.contains("format");
  if ((has_pattern || has_format) && (min >= 0 || max >= 0)) {
    return InvalidArgument(path + (min >= 0 ? "/minLength" : "/maxLength") + ": combining lengths with " +
                           (has_pattern ? "'pattern'" : "'format'") + " is unsupported");
  }
  if (has_pattern && has_format) return InvalidArgument(path + "/format: combining 'format' with 'pattern' is unsupported");
  Expr body;
  if (has_pattern) {
    if (!s["pattern"].is_string()) return InvalidArgument(path + "/pattern: expected a string");
    AX_ASSIGN_OR_RETURN(body, ParseRegex(s["pattern"].get<std::string>(), RegexOptions{.json_string = true, .search = true},
                                         path + "/pattern"));
  } else if (has_format) {
    if (!s["format"].is_string()) return InvalidArgument(path + "/format: expected a string");
    AX_ASSIGN_OR_RETURN(body, Format(s["format"].get<std::string>(), path));
  } else {
    AnyValue();
    int32_t ch = b_.Rule("json.char");  // defined by DefineAnyJson
    body = Expr::Repeat(Expr::Ref(ch), std::max(min, 0), max);
  }
  return Expr::Seq({Expr::Lit("\""), std::move(body), Expr::Lit("\"")});
}

void DefineAnyJson(GrammarBuilder* b, int32_t* value_rule, int32_t* object_rule, int32_t* string_rule) {
  int32_t value = b->Rule("json.value"), object = b->Rule("json.object"), array = b->Rule("json.array");
  int32_t string = b->Rule("json.string"), number = b->Rule("json.number"), ch = b->Rule("json.char");
  Expr sep = Expr::Seq({Expr::Lit(","), Expr::Opt(Expr::Lit(" "))});
  Expr colon = Expr::Seq({Expr::Lit(":"), Expr::Opt(Expr::Lit(" "))});
  b->Define(value, Expr::Alt({Expr::Ref(object), Expr::Ref(array), Expr::Ref(string), Expr::Ref(number),
                              Expr::Lit("true"), Expr::Lit("false"), Expr::Lit("null")}));
  Expr member = Expr::Seq({Expr::Ref(string), colon, Expr::Ref(value)});
  b->Define(object, Expr::Seq({Expr::Lit("{"), Expr::Opt(Expr::Seq({member, Expr::Star(Expr::Seq({sep, member}))})),
                               Expr::Lit("}")}));
  b->Define(array, Expr::Seq({Expr::Lit("["),
                              Expr::Opt(Expr::Seq({Expr::Ref(value), Expr::Star(Expr::Seq({sep, Expr::Ref(value)}))})),
                              Expr::Lit("]")}));
  b->Define(ch, JsonStringChar());
  b->Define(string, Expr::Seq({Expr::Lit("\""), Expr::Star(Expr::Ref(ch)), Expr::Lit("\"")}));
  Expr digits = Expr::Plus(Expr::Class({{'0', '9'}}));
  b->Define(number, Expr::Seq({IntegerRange(std::nullopt, std::nullopt), Expr::Opt(Expr::Seq({Expr::Lit("."), digits})),
                               Expr::Opt(Expr::Seq({Expr::Class({{'e', 'e'}, {'E', 'E'}}),
                                                    Expr::Opt(Expr::Class({{'+', '+'}, {'-', '-'}})), digits}))}));
  *value_rule = value;
  *object_rule = object;
  *string_rule = string;
}

GrammarPtr AnyJsonObject() {
  static const GrammarPtr g = [] {
    GrammarBuilder b;
    int32_t value, object, string;
    DefineAnyJson(&b, &value, &object, &string);
    int32_t root = b.Rule("root");
    b.Define(root, Expr::Ref(object));
    auto r = b.Build(root, "json_object");
    return r.ok() ? r.value() : nullptr;
  }();
  return g;
}

}  // namespace ax::constrain
