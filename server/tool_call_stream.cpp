// The streaming call readers (tool_call_stream.h): JSON calls, Qwen3-Coder's
// <function=…><parameter=…>, GLM-4.5's <arg_key>/<arg_value> pairs and Gemma 4's
// call:f{k:v}. Each keeps a cursor into the growing body and moves it only over bytes
// that are decided, holding back a tail that may still become a closing tag.
#include "tool_call_stream.h"

#include <algorithm>
#include <cstdio>

namespace ax::server {
namespace {

using OJson = nlohmann::ordered_json;
using State = CallReader::State;
constexpr std::string_view kSpace = " \t\r\n";
constexpr std::string_view kGemmaQuote = "<|\"|>";

enum class Match { kYes, kNo, kMore };

size_t SkipSpace(std::string_view s, size_t at) {
  const size_t n = s.find_first_not_of(kSpace, at);
  return n == std::string_view::npos ? s.size() : n;
}

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(kSpace) - b + 1));
}

// Whether s[*at…] (after whitespace) begins with lit: kYes moves *at past it, kMore
// when s ends inside a prefix of it.
Match Literal(std::string_view s, size_t* at, std::string_view lit) {
  const size_t from = SkipSpace(s, *at);
  const size_t n = std::min(lit.size(), s.size() - from);
  if (s.substr(from, n) != lit.substr(0, n)) return Match::kNo;
  if (n < lit.size()) return Match::kMore;
  *at = from + lit.size();
  return Match::kYes;
}

// The length of the longest suffix of s that is a proper prefix of tag.
size_t PartialSuffix(std::string_view s, std::string_view tag) {
  for (size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n)
    if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
  return 0;
}

// A JSON string token at s[*at…] (after whitespace), decoded.
Match JsonString(std::string_view s, size_t* at, std::string* out) {
  const size_t from = SkipSpace(s, *at);
  if (from >= s.size()) return Match::kMore;
  if (s[from] != '"') return Match::kNo;
  for (size_t i = from + 1; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      const OJson j = OJson::parse(s.substr(from, i + 1 - from), nullptr,
                                   /*allow_exceptions=*/false);
      if (!j.is_string()) return Match::kNo;
      *out = j.get<std::string>();
      *at = i + 1;
      return Match::kYes;
    }
  }
  return Match::kMore;
}

// {"name": "f", "arguments": {…}}: the header is matched as one prefix; then the
// arguments' bytes are passed on (less whitespace outside strings) while tracking
// string and nesting state, until the outer object closes.
class JsonCallReader final : public CallReader {
 public:
  State Read(std::string_view body, bool complete, std::string* name, std::string* args) override {
    if (state_ == State::kUndecided) {
      const Match m = Header(body, name);
      if (m == Match::kMore && !complete) return state_;
      if (m != Match::kYes) return state_ = State::kWhole;
      state_ = State::kStreaming;
    }
    if (state_ != State::kStreaming) return state_;
    Scan(body, args);
    if (state_ == State::kStreaming && complete) {  // an unclosed call object alone is no matter
      if (!args_closed_) warnings_.push_back("the call was cut off inside its arguments");
      end_ = body.size();
      state_ = State::kDone;
    }
    return state_;
  }

 private:
  // ws { "name": "f", "arguments"|"parameters": then the arguments' "{" (not taken).
  Match Header(std::string_view b, std::string* name) {
    size_t at = 0;
    std::string key, fname;
    for (Match m : {Literal(b, &at, "{"), JsonString(b, &at, &key)})
      if (m != Match::kYes) return m;
    if (key != "name") return Match::kNo;
    for (Match m : {Literal(b, &at, ":"), JsonString(b, &at, &fname)})
      if (m != Match::kYes) return m;
    if (fname.empty()) return Match::kNo;
    for (Match m : {Literal(b, &at, ","), JsonString(b, &at, &key)})
      if (m != Match::kYes) return m;
    if (key != "arguments" && key != "parameters") return Match::kNo;
    if (Match m = Literal(b, &at, ":"); m != Match::kYes) return m;
    at = SkipSpace(b, at);
    if (at >= b.size()) return Match::kMore;
    if (b[at] != '{') return Match::kNo;  // arguments as a string: parsed whole
    *name = fname;
    pos_ = at;
    return Match::kYes;
  }

  void Scan(std::string_view b, std::string* args) {
    for (; pos_ < b.size() && state_ == State::kStreaming; ++pos_) {
      const char c = b[pos_];
      const bool was_in_string = in_string_;
      const int before = depth_;
      if (in_string_) {
        if (escape_) escape_ = false;
        else if (c == '\\') escape_ = true;
        else if (c == '"') in_string_ = false;
      } else if (c == '"') {
        in_string_ = true;
      } else if (c == '{' || c == '[') {
        ++depth_;
      } else if (c == '}' || c == ']') {
        --depth_;
      }
      const bool space = !was_in_string && kSpace.find(c) != std::string_view::npos;
      if (!args_closed_ && (before >= 2 || depth_ >= 2)) {
        if (!space) {
          args->push_back(c);
          text_.push_back(c);
        }
        if (depth_ == 1) CloseArguments();
      } else if (args_closed_ && depth_ >= 1 && !space) {
        extra_ = true;
      }
      if (depth_ == 0) {
        if (extra_) warnings_.push_back("keys after the arguments were ignored");
        end_ = pos_ + 1;
        state_ = State::kDone;
      }
    }
  }

  void CloseArguments() {
    args_closed_ = true;
    if (!OJson::parse(text_, nullptr, /*allow_exceptions=*/false).is_object())
      warnings_.push_back("the arguments are not a valid JSON object: " + text_);
  }

  State state_ = State::kUndecided;
  size_t pos_ = 0;
  int depth_ = 1;  // the call object is open once the header matched
  bool in_string_ = false, escape_ = false, args_closed_ = false, extra_ = false;
  std::string text_;  // the arguments as passed on
};

// The arguments object of the XML-style syntaxes, written a parameter at a time.
class ArgsWriter {
 public:
  // "k": for the first key, ,"k": after (the caller wrote the "{").
  void Key(const std::string& k, std::string* out) {
    *out += (first_ ? "\"" : ",\"") + JsonEscape(k) + "\":";
    first_ = false;
  }

 private:
  bool first_ = true;
};

// A string value streaming out of the body: its bytes up to a limit the caller decides,
// escaped, with (optionally) one leading and one trailing newline left out, as those
// are layout in Qwen3-Coder's parameters.
class StringValue {
 public:
  void Start(size_t at, bool strip_newlines) {
    start_ = next_ = at;
    strip_ = strip_newlines;
    lead_known_ = false;
  }
  // Passes on body[…limit) (final: limit is the value's end).
  void Stream(std::string_view body, size_t limit, bool final, std::string* out) {
    if (!lead_known_) {
      if (limit <= start_ && !final) return;
      lead_known_ = true;
      if (strip_ && limit > start_ && body[start_] == '\n') next_ = start_ + 1;
    }
    size_t stop = std::max(limit, next_);
    if (strip_ && stop > next_ && body[stop - 1] == '\n') --stop;  // may be the trailing newline
    *out += JsonEscape(body.substr(next_, stop - next_));
    next_ = stop;
  }

 private:
  size_t start_ = 0, next_ = 0;
  bool strip_ = false, lead_known_ = false;
};

// Shared loop of the XML-style readers: the name first, then parameters one by one. A
// subclass matches its header (Start) and one step of its parameter list (Step).
class TaggedReader : public CallReader {
 public:
  explicit TaggedReader(nlohmann::json tools) : tools_(std::move(tools)) {}

  State Read(std::string_view body, bool complete, std::string* name, std::string* args) override {
    if (state_ == State::kUndecided) {
      const Match m = Start(body, complete);
      if (m == Match::kMore && !complete) return state_;
      if (m != Match::kYes) return state_ = State::kWhole;
      *name = name_;
      *args += "{";
      state_ = State::kStreaming;
    }
    while (state_ == State::kStreaming && Step(body, complete, args)) {
    }
    if (state_ == State::kStreaming && complete) Close(body.size(), args);
    return state_;
  }

 protected:
  virtual Match Start(std::string_view body, bool complete) = 0;
  // One step from pos_; false when it must wait for more of the body.
  virtual bool Step(std::string_view body, bool complete, std::string* args) = 0;

  void Close(size_t end, std::string* args) {
    *args += "}";
    end_ = end;
    state_ = State::kDone;
  }

  // A parameter whose type is known from its key: a string streams ("k":" …), any other
  // type waits for its whole text.
  void BeginValue(const std::string& key, size_t at, bool strip_newlines, std::string* args) {
    key_ = key;
    type_ = ParamType(tools_, name_, key);
    in_value_ = true;
    if (type_ != "string") return;
    writer_.Key(key, args);
    *args += "\"";
    string_.Start(at, strip_newlines);
  }
  // The value is body[value_start, end): its last bytes (a string) or the whole of it.
  void EndValue(std::string_view body, size_t value_start, size_t end, bool strip_newlines, std::string* args) {
    in_value_ = false;
    if (type_ == "string") {
      string_.Stream(body, end, /*final=*/true, args);
      *args += "\"";
      return;
    }
    std::string text(body.substr(value_start, end - value_start));
    if (strip_newlines) {
      if (!text.empty() && text.front() == '\n') text.erase(0, 1);
      if (!text.empty() && text.back() == '\n') text.pop_back();
    }
    writer_.Key(key_, args);
    *args += JsonText(TypedValue(text, type_));
  }

  const nlohmann::json tools_;  // a copy: the parser that made the reader may move
  State state_ = State::kUndecided;
  std::string name_, key_, type_;
  size_t pos_ = 0, value_start_ = 0;
  bool in_value_ = false;
  ArgsWriter writer_;
  StringValue string_;
};

// <function=f>\n<parameter=a>\nvalue\n</parameter>\n…</function>. A value ends at its
// </parameter>; one never closed ends at the next <parameter= or </function>.
class Qwen3CoderReader final : public TaggedReader {
 public:
  using TaggedReader::TaggedReader;

 private:
  static constexpr std::string_view kClose = "</parameter>", kParam = "<parameter=", kEnd = "</function>";

  Match Start(std::string_view b, bool) override {
    size_t at = 0;
    if (Match m = Literal(b, &at, "<function="); m != Match::kYes) return m;
    const size_t gt = b.find('>', at);
    if (gt == std::string_view::npos) return Match::kMore;
    name_ = Trim(b.substr(at, gt - at));
    pos_ = gt + 1;
    return name_.empty() ? Match::kNo : Match::kYes;
  }

  bool Step(std::string_view b, bool complete, std::string* args) override {
    if (in_value_) return Value(b, complete, args);
    size_t at = pos_;
    const Match end = Literal(b, &at, kEnd);
    if (end == Match::kYes) {
      Close(at, args);
      return false;
    }
    const Match param = Literal(b, &at, kParam);
    const size_t gt = param == Match::kYes ? b.find('>', at) : std::string_view::npos;
    if (param == Match::kNo && end == Match::kNo) {
      Close(SkipSpace(b, pos_),
            args);  // anything else ends the call (a warning later)
      return false;
    }
    if (gt == std::string_view::npos) {  // the text may still become a tag
      if (complete) Close(SkipSpace(b, pos_),
                          args);  // ended inside the call: as far as it went
      return false;
    }
    value_start_ = gt + 1;
    BeginValue(Trim(b.substr(at, gt - at)), value_start_,
               /*strip_newlines=*/true, args);
    return true;
  }

  bool Value(std::string_view b, bool complete, std::string* args) {
    const size_t close = b.find(kClose, value_start_);
    const size_t other = std::min(b.find(kParam, value_start_), b.find(kEnd, value_start_));
    if (close == std::string_view::npos && !complete) {
      if (type_ == "string") {
        size_t limit = other;
        if (limit == std::string_view::npos) {
          const size_t held = std::max({PartialSuffix(b, kClose), PartialSuffix(b, kParam), PartialSuffix(b, kEnd)});
          limit = std::max(value_start_, b.size() - held);
        }
        string_.Stream(b, limit, /*final=*/false, args);
      }
      return false;
    }
    size_t end = close, next = close + kClose.size();
    if (close == std::string_view::npos) end = next = other == std::string_view::npos ? b.size() : other;
    EndValue(b, value_start_, end, /*strip_newlines=*/true, args);
    pos_ = next;
    return true;
  }
};

// f\n<arg_key>a</arg_key>\n<arg_value>v</arg_value>…: the name is the first word.
class Glm45Reader final : public TaggedReader {
 public:
  using TaggedReader::TaggedReader;

 private:
  static constexpr std::string_view kValueClose = "</arg_value>";

  Match Start(std::string_view b, bool complete) override {
    const size_t from = SkipSpace(b, 0);
    const size_t end = b.find_first_of(" \t\r\n<>{}", from);
    if (end == std::string_view::npos) {
      if (!complete) return Match::kMore;
      pos_ = b.size();
    } else {
      if (b[end] == '>' || b[end] == '{' || b[end] == '}') return Match::kNo;
      pos_ = end;
    }
    name_ = std::string(b.substr(from, pos_ - from));
    return name_.empty() ? Match::kNo : Match::kYes;
  }

  bool Step(std::string_view b, bool complete, std::string* args) override {
    if (in_value_) return Value(b, complete, args);
    size_t at = pos_;
    const Match key = Literal(b, &at, "<arg_key>");
    if (key != Match::kYes) {
      if (key == Match::kNo || complete) Close(SkipSpace(b, pos_), args);
      return false;
    }
    const size_t kend = b.find("</arg_key>", at);
    if (kend == std::string_view::npos) {
      if (complete) Close(SkipSpace(b, pos_), args);
      return false;
    }
    size_t vat = kend + 10;
    const Match value = Literal(b, &vat, "<arg_value>");
    if (value != Match::kYes) {
      if (value == Match::kNo || complete) Close(SkipSpace(b, pos_), args);
      return false;
    }
    value_start_ = vat;
    BeginValue(Trim(b.substr(at, kend - at)), vat, /*strip_newlines=*/false, args);
    return true;
  }

  bool Value(std::string_view b, bool complete, std::string* args) {
    const size_t close = b.find(kValueClose, value_start_);
    if (close == std::string_view::npos && !complete) {
      if (type_ == "string")
        string_.Stream(b, std::max(value_start_, b.size() - PartialSuffix(b, kValueClose)),
                       /*final=*/false, args);
      return false;
    }
    if (close == std::string_view::npos) warnings_.push_back("<arg_value> is not closed");
    const size_t end = close == std::string_view::npos ? b.size() : close;
    EndValue(b, value_start_, end, /*strip_newlines=*/false, args);
    pos_ = close == std::string_view::npos ? b.size() : close + kValueClose.size();
    return true;
  }
};

// The end of a Gemma 4 {…} or […] starting at `at` (npos if not in b yet), skipping
// <|"|> strings.
size_t GemmaGroupEnd(std::string_view b, size_t at) {
  int depth = 0;
  for (size_t i = at; i < b.size(); ++i) {
    if (b.substr(i, kGemmaQuote.size()) == kGemmaQuote) {
      const size_t q = b.find(kGemmaQuote, i + kGemmaQuote.size());
      if (q == std::string_view::npos) return std::string_view::npos;
      i = q + kGemmaQuote.size() - 1;
    } else if (b[i] == '{' || b[i] == '[') {
      ++depth;
    } else if ((b[i] == '}' || b[i] == ']') && --depth == 0) {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// call:f{k:v,…}: values <|"|>text<|"|> (streamed), {…}, […], numbers, true, false,
// null.
class Gemma4Reader final : public TaggedReader {
 public:
  using TaggedReader::TaggedReader;

 private:
  Match Start(std::string_view b, bool) override {
    size_t at = 0;
    if (Match m = Literal(b, &at, "call:"); m != Match::kYes) return m;
    const size_t brace = b.find('{', at);
    if (brace == std::string_view::npos) return Match::kMore;
    name_ = Trim(b.substr(at, brace - at));
    pos_ = brace + 1;
    return name_.empty() ? Match::kNo : Match::kYes;
  }

  bool Step(std::string_view b, bool complete, std::string* args) override {
    if (in_value_) return StringTail(b, complete, args);
    const size_t at = SkipSpace(b, pos_);
    if (at >= b.size()) {
      if (complete) Close(at, args);
      return false;
    }
    if (b[at] == '}') {
      Close(at + 1, args);
      return false;
    }
    if (after_value_) {
      if (b[at] != ',') {
        Close(at, args);
        return false;
      }
      after_value_ = false;
      pos_ = at + 1;
      return true;
    }
    const size_t colon = b.find(':', at);
    const std::string key = colon == std::string_view::npos ? "" : Trim(b.substr(at, colon - at));
    if (colon == std::string_view::npos || key.empty() || key.find_first_of("{}[],<>") != std::string::npos) {
      if (complete || colon != std::string_view::npos) Close(at, args);
      return false;
    }
    size_t v = colon + 1;
    const Match quote = Literal(b, &v, kGemmaQuote);
    if (quote == Match::kYes) {
      type_ = "string";
      key_ = key;
      writer_.Key(key, args);
      *args += "\"";
      string_.Start(v, /*strip_newlines=*/false);
      value_start_ = v;
      in_value_ = true;
      return true;
    }
    v = SkipSpace(b, colon + 1);
    if (quote == Match::kMore || v >= b.size()) {
      if (complete) Close(at, args);
      return false;
    }
    size_t end = b[v] == '{' || b[v] == '[' ? GemmaGroupEnd(b, v) : b.find_first_of(",}", v);
    if (end == std::string_view::npos) {
      if (!complete) return false;
      end = b.size();
    }
    const std::string text = Trim(b.substr(v, end - v));
    OJson value;
    if (!ParseGemmaValue(text, &value)) {
      warnings_.push_back("the value of " + key + " is not a Gemma value, kept as a string: " + text);
      value = text;
    }
    writer_.Key(key, args);
    *args += JsonText(value);
    pos_ = end;
    after_value_ = true;
    return true;
  }

  bool StringTail(std::string_view b, bool complete, std::string* args) {
    const size_t close = b.find(kGemmaQuote, value_start_);
    if (close == std::string_view::npos && !complete) {
      string_.Stream(b, std::max(value_start_, b.size() - PartialSuffix(b, kGemmaQuote)),
                     /*final=*/false, args);
      return false;
    }
    const size_t end = close == std::string_view::npos ? b.size() : close;
    string_.Stream(b, end, /*final=*/true, args);
    *args += "\"";
    in_value_ = false;
    after_value_ = true;
    pos_ = close == std::string_view::npos ? b.size() : close + kGemmaQuote.size();
    return true;
  }

  bool after_value_ = false;
};

}  // namespace

std::string JsonEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(ch);
        }
    }
  }
  return out;
}

std::string JsonText(const OJson& v) { return v.dump(-1, ' ', false, OJson::error_handler_t::replace); }

std::unique_ptr<CallReader> MakeJsonCallReader() { return std::make_unique<JsonCallReader>(); }

std::unique_ptr<CallReader> MakeCallReader(ToolCallFormat format, const nlohmann::json& tools) {
  switch (format) {
    case ToolCallFormat::kQwen3:
    case ToolCallFormat::kLlama3Json: return MakeJsonCallReader();
    case ToolCallFormat::kQwen3Coder: return std::make_unique<Qwen3CoderReader>(tools);
    case ToolCallFormat::kGlm45: return std::make_unique<Glm45Reader>(tools);
    case ToolCallFormat::kGemma4: return std::make_unique<Gemma4Reader>(tools);
    case ToolCallFormat::kNone: break;
  }
  return nullptr;
}

}  // namespace ax::server
