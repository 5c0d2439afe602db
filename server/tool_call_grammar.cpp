#include "tool_call_grammar.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include "tool_call_stream.h"

namespace ax::server {
namespace {

using OJson = nlohmann::ordered_json;

constexpr const char* kQuote = "<|\"|>";  // Gemma 4's string quote (a special token)

// "~" and "/" escaped for a JSON pointer token.
std::string PointerToken(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

// The parameters schema of a tool ({"type": "object", "properties": {}} when it has none).
OJson Parameters(const OJson& tool) {
  OJson params = tool.value("function", OJson::object()).value("parameters", OJson::object());
  if (!params.is_object() || params.empty()) params = {{"type", "object"}, {"properties", OJson::object()}};
  return params;
}

// The tags a syntax writes, named as special tokens: a tokenizer that has them as such
// (Gemma 4's always; GLM's and Qwen's in some) then lets the model write them as the
// single tokens it was trained on; in others they are text anyway.
std::vector<std::string> Tags(ToolCallFormat format) {
  switch (format) {
    case ToolCallFormat::kQwen3:
    case ToolCallFormat::kQwen3Coder: return {"<tool_call>", "</tool_call>"};
    case ToolCallFormat::kGlm45:
      return {"<tool_call>", "</tool_call>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>"};
    case ToolCallFormat::kGemma4: return {"<|tool_call>", "<tool_call|>", kQuote};
    case ToolCallFormat::kLlama3Json:
    case ToolCallFormat::kNone: break;
  }
  return {};
}

class GrammarWriter {
 public:
  explicit GrammarWriter(const ForcedCallsSpec& spec) : spec_(spec) {
    tools_ = spec.ordered_tools != nullptr ? *spec.ordered_tools : OJson(*spec.tools);
  }

  ForcedCalls Build() {
    ForcedCalls out;
    out.format = spec_.format == ToolCallFormat::kNone ? ToolCallFormat::kLlama3Json : spec_.format;
    std::vector<std::string> calls;
    for (size_t i = 0; i < tools_.size(); ++i) {
      const OJson& t = tools_[i];
      if (!t.is_object() || !t.contains("function") || !t["function"].is_object()) continue;
      const std::string name = t["function"].value("name", "");
      if (name.empty() || (spec_.choice.kind == ToolChoice::Kind::kNamed && name != spec_.choice.name)) continue;
      calls.push_back(Call(out.format, i, name));
    }
    if (calls.empty()) return out;  // kNone: no function to call
    std::string call_alts;
    for (const std::string& c : calls) call_alts += (call_alts.empty() ? "" : " | ") + c;
    Rule("call", call_alts);
    const char* sep = out.format == ToolCallFormat::kLlama3Json ? "\"; \" "
                      : out.format == ToolCallFormat::kGemma4   ? ""
                                                                : "\"\\n\" ";
    Rule("calls", spec_.parallel && spec_.choice.kind == ToolChoice::Kind::kRequired
                      ? std::string("call (") + sep + "call)*"
                      : "call");
    if (spec_.reasoning_close.empty()) {
      Rule("root", "calls");
    } else {
      gbnf_ += GbnfTextWithout("reasoning", {spec_.reasoning_close});
      Rule("root", "reasoning " + GbnfLiteral(spec_.reasoning_close) + " \"\\n\"? \"\\n\"? calls");
    }
    out.constraint.kind = OutputConstraint::Kind::kGrammar;
    out.constraint.text = std::move(gbnf_);
    out.constraint.schema_rules = std::move(rules_);
    out.constraint.special_tokens = Tags(out.format);
    if (!spec_.reasoning_close.empty()) out.constraint.special_tokens.push_back(spec_.reasoning_close);
    return out;
  }

 private:
  void Rule(const std::string& name, const std::string& body) { gbnf_ += name + " ::= " + body + "\n"; }

  // A rule defined by the subschema at `pointer` of tool i's parameters, named
  // tools-I-parameters[-N] so a compile error names the tool.
  std::string SchemaRef(size_t i, const std::string& pointer, const std::string& name) {
    rules_.push_back({name, Parameters(tools_[i]).dump(), pointer});
    return name;
  }

  // One call to tool i, as a GBNF sequence.
  std::string Call(ToolCallFormat format, size_t i, const std::string& name) {
    const std::string idx = std::to_string(i);
    const std::string json_name = OJson(name).dump();
    switch (format) {
      case ToolCallFormat::kQwen3:
        return "(" + GbnfLiteral("<tool_call>\n{\"name\": " + json_name + ", \"arguments\": ") + " " +
               SchemaRef(i, "", "tools-" + idx + "-parameters") + " " + GbnfLiteral("}\n</tool_call>") + ")";
      case ToolCallFormat::kQwen3Coder:
        return "(" + GbnfLiteral("<tool_call>\n<function=" + name + ">\n") + " " +
               XmlParams(i, name, "<parameter=", ">\n", "\n</parameter>\n", {"</parameter>", "</tool_call>"}) + " " +
               GbnfLiteral("</function>\n</tool_call>") + ")";
      case ToolCallFormat::kGlm45:
        return "(" + GbnfLiteral("<tool_call>" + name + "\n") + " " +
               XmlParams(i, name, "<arg_key>", "</arg_key>\n<arg_value>", "</arg_value>\n",
                         {"</arg_value>", "</tool_call>"}) +
               " " + GbnfLiteral("</tool_call>") + ")";
      case ToolCallFormat::kGemma4:
        return "(" + GbnfLiteral("<|tool_call>call:" + name + "{") + " " + GemmaParams(i, name) + " " +
               GbnfLiteral("}<tool_call|>") + ")";
      case ToolCallFormat::kLlama3Json:
      case ToolCallFormat::kNone: break;
    }
    return "(" + GbnfLiteral("{\"name\": " + json_name + ", \"parameters\": ") + " " +
           SchemaRef(i, "", "tools-" + idx + "-parameters") + " " + GbnfLiteral("}") + ")";
  }

  // The parameters of tool i, each as `open KEY mid VALUE close`, in the schema's order:
  // required ones always, the others optionally. Values are read back by ParamType's
  // type (tool_call_syntax.cpp), so string-typed and untyped ones are raw text.
  std::string XmlParams(size_t i, const std::string& name, const std::string& open, const std::string& mid,
                        const std::string& close, const std::vector<std::string>& stops) {
    const OJson params = Parameters(tools_[i]);
    const OJson props = params.value("properties", OJson::object());
    std::set<std::string> required;
    for (const OJson& r : params.value("required", OJson::array()))
      if (r.is_string()) required.insert(r.get<std::string>());
    std::vector<std::pair<std::string, std::string>> keys;  // key, value grammar
    if (props.is_object()) {
      for (const auto& [key, schema] : props.items()) {
        if (schema.is_boolean() && !schema.get<bool>()) continue;
        keys.emplace_back(key, Value(i, name, key, schema, stops));
      }
    }
    for (const std::string& key : required)
      if (!props.is_object() || !props.contains(key)) keys.emplace_back(key, Text(stops));
    std::string seq;
    for (const auto& [key, value] : keys) {
      std::string one = GbnfLiteral(open + key + mid) + " " + value + " " + GbnfLiteral(close);
      seq += (seq.empty() ? "" : " ") + (required.count(key) != 0 ? "(" + one + ")" : "(" + one + ")?");
    }
    return seq.empty() ? "\"\"" : seq;
  }

  std::string Value(size_t i, const std::string& name, const std::string& key, const OJson& schema,
                    const std::vector<std::string>& stops) {
    const std::string type = ParamType(*spec_.tools, name, key);
    if (!type.empty() && type != "string")
      return SchemaRef(i, "/properties/" + PointerToken(key),
                       "tools-" + std::to_string(i) + "-parameters-" + std::to_string(++params_));
    // Raw text: one of the enum / const strings, or any text without the stops.
    const std::vector<std::string> strings = EnumStrings(schema);
    if (strings.empty()) return Text(stops);
    std::string alts;
    for (const std::string& v : strings) alts += (alts.empty() ? "" : " | ") + GbnfLiteral(v);
    return "(" + alts + ")";
  }

  // Gemma 4's key:value pairs, keys sorted (its template writes them with dictsort),
  // separated by ",": rules gemma-I-J-S for "the pairs from J on, S = one was written".
  std::string GemmaParams(size_t i, const std::string& name) {
    const OJson params = Parameters(tools_[i]);
    const OJson props = params.value("properties", OJson::object());
    std::set<std::string> required;
    for (const OJson& r : params.value("required", OJson::array()))
      if (r.is_string()) required.insert(r.get<std::string>());
    std::map<std::string, std::string> items;  // key -> "key:" VALUE, sorted by key
    if (props.is_object()) {
      for (const auto& [key, schema] : props.items()) {
        if (schema.is_boolean() && !schema.get<bool>()) continue;
        items[key] = GbnfLiteral(key + ":") + " " + GemmaValue(i, name, key, schema);
      }
    }
    for (const std::string& key : required)
      if (items.count(key) == 0) items[key] = GbnfLiteral(key + ":") + " " + GemmaAny();
    const std::string base = "gemma-" + std::to_string(i) + "-";
    auto rule = [&](size_t j, int started) { return base + std::to_string(j) + "-" + std::to_string(started); };
    size_t j = 0;
    for (const auto& [key, item] : items) {
      for (int started = 0; started < 2; ++started) {
        const std::string present = (started != 0 ? "\",\" " : "") + item + " " + rule(j + 1, 1);
        Rule(rule(j, started), required.count(key) != 0 ? present : present + " | " + rule(j + 1, started));
      }
      ++j;
    }
    Rule(rule(j, 0), "\"\"");
    Rule(rule(j, 1), "\"\"");
    return rule(0, 0);
  }

  // A Gemma 4 value for property `key`: a string (<|"|>text<|"|>, or one of its enum
  // strings), a scalar of its one non-string type as its schema (the same text as
  // JSON), anything else (objects, arrays, no single type) any Gemma value.
  std::string GemmaValue(size_t i, const std::string& name, const std::string& key, const OJson& schema) {
    const std::vector<std::string> stops = {kQuote, "<tool_call|>"};
    const std::string type = ParamType(*spec_.tools, name, key);
    if (type == "integer" || type == "number" || type == "boolean" || type == "null")
      return SchemaRef(i, "/properties/" + PointerToken(key),
                       "tools-" + std::to_string(i) + "-parameters-" + std::to_string(++params_));
    const std::vector<std::string> strings = EnumStrings(schema);
    if (!strings.empty()) {
      std::string alts;
      for (const std::string& v : strings) alts += (alts.empty() ? "" : " | ") + GbnfLiteral(kQuote + v + kQuote);
      return "(" + alts + ")";
    }
    if (type == "string") return GbnfLiteral(kQuote) + " " + Text(stops) + " " + GbnfLiteral(kQuote);
    return GemmaAny();
  }

  // Any Gemma 4 value (ParseGemmaValue's syntax), defined once.
  std::string GemmaAny() {
    if (!gemma_any_) {
      gemma_any_ = true;
      const std::string str = GbnfLiteral(kQuote) + " " + Text({kQuote, "<tool_call|>"}) + " " + GbnfLiteral(kQuote);
      rules_.push_back({"gemma-number", R"({"type": "number"})", ""});
      Rule("gemma-value", str + " | gemma-number | \"true\" | \"false\" | \"null\" | \"{\" (gemma-pair (\",\" " +
                              "gemma-pair)*)? \"}\" | \"[\" (gemma-value (\",\" gemma-value)*)? \"]\"");
      Rule("gemma-pair", "[a-zA-Z0-9_]+ \":\" gemma-value");
    }
    return "gemma-value";
  }

  // The enum / const values when they are all strings, else none.
  static std::vector<std::string> EnumStrings(const OJson& schema) {
    std::vector<std::string> strings;
    if (schema.is_object() && schema.contains("const")) {
      strings.push_back(schema["const"].is_string() ? schema["const"].get<std::string>() : "");
    } else if (schema.is_object() && schema.contains("enum") && schema["enum"].is_array()) {
      for (const OJson& v : schema["enum"]) strings.push_back(v.is_string() ? v.get<std::string>() : "");
    }
    if (std::find(strings.begin(), strings.end(), "") != strings.end()) return {};
    return strings;
  }

  std::string Text(const std::vector<std::string>& stops) {
    if (!text_defined_) gbnf_ += GbnfTextWithout("text", stops);
    text_defined_ = true;
    return "text";
  }

  const ForcedCallsSpec& spec_;
  OJson tools_;
  std::string gbnf_;
  std::vector<OutputConstraint::SchemaRule> rules_;
  int params_ = 0;
  bool text_defined_ = false;
  bool gemma_any_ = false;
};

}  // namespace

std::string GbnfLiteral(std::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", c);
      out += hex;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

// A state is the longest suffix of the text so far that is a proper prefix of a
// forbidden string (an Aho-Corasick automaton built by brute force: the strings are
// short tags). A byte that would complete a forbidden string has no transition; a byte
// no forbidden string contains returns to the empty state.
std::string GbnfTextWithout(const std::string& name, const std::vector<std::string>& forbidden) {
  std::vector<std::string> states{""};
  std::set<char> alphabet;
  for (const std::string& f : forbidden) {
    for (size_t n = 1; n < f.size(); ++n)
      if (std::find(states.begin(), states.end(), f.substr(0, n)) == states.end()) states.push_back(f.substr(0, n));
    alphabet.insert(f.begin(), f.end());
  }
  auto rule = [&](size_t k) { return k == 0 ? name : name + "-" + std::to_string(k); };
  auto ends_with = [](const std::string& t, const std::string& f) {
    return t.size() >= f.size() && t.compare(t.size() - f.size(), f.size(), f) == 0;
  };
  std::string others = "[^";
  for (char c : alphabet) {
    if (c == '\\' || c == ']' || c == '[' || c == '-' || c == '^' || c == '"') others += '\\';
    others += c;
  }
  others += "]";
  std::string out;
  for (size_t k = 0; k < states.size(); ++k) {
    out += rule(k) + " ::= \"\" | " + others + " " + name;
    for (char c : alphabet) {
      const std::string t = states[k] + c;
      if (std::any_of(forbidden.begin(), forbidden.end(), [&](const std::string& f) { return ends_with(t, f); }))
        continue;
      size_t next = 0;  // the longest suffix of t that is a state
      for (size_t j = 0; j < states.size(); ++j)
        if (ends_with(t, states[j]) && states[j].size() > states[next].size()) next = j;
      out += " | " + GbnfLiteral(std::string(1, c)) + " " + rule(next);
    }
    out += "\n";
  }
  return out;
}

ForcedCalls BuildForcedCalls(const ForcedCallsSpec& spec) { return GrammarWriter(spec).Build(); }

}  // namespace ax::server
