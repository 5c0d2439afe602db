// ChatTemplate on top of the jinja module: loading the template and special tokens the
// way transformers does, and building the render context the way apply_chat_template
// does (special tokens, tools=None, documents=None, add_generation_prompt=False, then
// the caller's variables).
#include "tokenizer/chat_template.h"

#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tokenizer/jinja/builtins.h"
#include "tokenizer/jinja/error.h"
#include "tokenizer/jinja/template.h"

namespace ax {
namespace {

using OrderedJson = nlohmann::ordered_json;

// Special-token attributes transformers puts in special_tokens_map.
constexpr const char* kSpecialTokens[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                          "pad_token", "cls_token", "mask_token"};

// A token is a string or an AddedToken dict {"content": ...}; anything else is absent.
const std::string* TokenContent(const OrderedJson& j) {
  if (j.is_string()) return &j.get_ref<const std::string&>();
  if (j.is_object()) {
    auto it = j.find("content");
    if (it != j.end() && it->is_string()) return &it->get_ref<const std::string&>();
  }
  return nullptr;
}

bool ReadFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return !in.bad();
}

// "2024-07-26" or "2024-07-26T13:45:00" -> broken-down time (as given, no zone).
bool ParseNow(const std::string& s, std::tm* tm) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  int n = std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
  if (n != 3 && n != 6) n = std::sscanf(s.c_str(), "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
  if ((n != 3 && n != 6) || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
      sec < 0 || sec > 60) {
    return false;
  }
  std::tm t{};
  t.tm_year = y - 1900;
  t.tm_mon = mo - 1;
  t.tm_mday = d;
  t.tm_hour = h;
  t.tm_min = mi;
  t.tm_sec = sec;
  std::time_t secs = timegm(&t);  // normalizes and fills tm_wday / tm_yday
  gmtime_r(&secs, tm);
  return true;
}

class JinjaChatTemplate : public ChatTemplate {
 public:
  JinjaChatTemplate(jinja::Template t, jinja::Dict defaults, std::string source)
      : template_(std::move(t)), defaults_(std::move(defaults)), source_(std::move(source)) {}

  const std::string& source() const override { return source_; }

  Result<std::string> Render(const std::string& context_json) const override {
    OrderedJson ctx = OrderedJson::parse(context_json, nullptr, /*allow_exceptions=*/false);
    if (ctx.is_discarded()) return InvalidArgument("chat template context: not valid JSON");
    if (!ctx.is_object()) return InvalidArgument("chat template context: expected a JSON object");
    jinja::Dict vars = defaults_;
    jinja::RenderOptions options;
    for (auto it = ctx.begin(); it != ctx.end(); ++it) {
      if (it.key() == kNowKey) {
        std::tm tm{};
        if (!it->is_string() || !ParseNow(it->get<std::string>(), &tm)) {
          return InvalidArgument(std::string("chat template context: ") + kNowKey + ": expected \"YYYY-MM-DD[THH:MM:SS]\"");
        }
        options.now = tm;
        continue;
      }
      try {
        vars.Set(it.key(), jinja::FromJson(*it));
      } catch (const jinja::Error& e) {
        return InvalidArgument("chat template context: " + it.key() + ": " + e.what());
      }
    }
    return template_.Render(vars, options);
  }

  static constexpr const char* kNowKey = "_ax_now";

 private:
  jinja::Template template_;
  jinja::Dict defaults_;
  std::string source_;
};

jinja::Dict BaseDefaults() {
  jinja::Dict d;
  d.Set("tools", jinja::Value::None());
  d.Set("documents", jinja::Value::None());
  d.Set("add_generation_prompt", jinja::Value::Bool(false));
  return d;
}

Result<std::unique_ptr<ChatTemplate>> Build(const std::string& source, jinja::Dict defaults, const std::string& where) {
  Result<jinja::Template> t = jinja::Template::Parse(source);
  if (!t.ok()) return t.status().WithPrefix(where);
  return std::unique_ptr<ChatTemplate>(new JinjaChatTemplate(std::move(t).value(), std::move(defaults), source));
}

// chat_template: a string, or [{"name", "template"}, ...] of which "default" is used.
Status PickTemplate(const OrderedJson& field, const std::string& where, std::string* out) {
  if (field.is_string()) {
    *out = field.get<std::string>();
    return Status::Ok();
  }
  if (field.is_array()) {
    for (const auto& entry : field) {
      if (entry.is_object() && entry.value("name", "") == "default" && entry.contains("template") &&
          entry["template"].is_string()) {
        *out = entry["template"].get<std::string>();
        return Status::Ok();
      }
    }
    return InvalidArgument(where + ": chat_template lists named templates but none named 'default'");
  }
  return InvalidArgument(where + ": chat_template: expected a string or a list of {name, template}");
}

}  // namespace

Result<std::unique_ptr<ChatTemplate>> ChatTemplate::FromSource(const std::string& source, const std::string& bos_token,
                                                               const std::string& eos_token) {
  jinja::Dict defaults = BaseDefaults();
  if (!bos_token.empty()) defaults.Set("bos_token", jinja::Value::String(bos_token));
  if (!eos_token.empty()) defaults.Set("eos_token", jinja::Value::String(eos_token));
  return Build(source, std::move(defaults), "chat template");
}

Result<std::unique_ptr<ChatTemplate>> ChatTemplate::LoadFromDir(const std::string& dir,
                                                                 const std::string& template_file) {
  const std::string config_path = dir + "/tokenizer_config.json";
  const std::string jinja_path = dir + "/chat_template.jinja";
  std::string config_text, source, where;
  OrderedJson config = OrderedJson::object();
  if (ReadFile(config_path, &config_text)) {
    config = OrderedJson::parse(config_text, nullptr, /*allow_exceptions=*/false);
    if (config.is_discarded() || !config.is_object()) return DataLoss(config_path + ": not a JSON object");
  }
  if (!template_file.empty()) {
    if (!ReadFile(template_file, &source)) return NotFound(template_file + ": cannot read the chat template file");
    where = template_file;
  } else if (ReadFile(jinja_path, &source)) {
    where = jinja_path;
  } else if (config.contains("chat_template") && !config["chat_template"].is_null()) {
    where = config_path + ": chat_template";
    AX_RETURN_IF_ERROR(PickTemplate(config["chat_template"], config_path, &source));
  } else {
    return NotFound(dir + ": no chat template (neither chat_template.jinja nor tokenizer_config.json's chat_template)");
  }
  jinja::Dict defaults = BaseDefaults();
  for (const char* name : kSpecialTokens) {
    auto it = config.find(name);
    if (it == config.end()) continue;
    if (const std::string* s = TokenContent(*it)) defaults.Set(name, jinja::Value::String(*s));
  }
  if (auto it = config.find("additional_special_tokens"); it != config.end() && it->is_array()) {
    jinja::ValueList extra;
    for (const auto& tok : *it) {
      if (const std::string* s = TokenContent(tok)) extra.push_back(jinja::Value::String(*s));
    }
    defaults.Set("additional_special_tokens", jinja::Value::List(std::move(extra)));
  }
  if (auto it = config.find("extra_special_tokens"); it != config.end() && it->is_object()) {
    for (auto e = it->begin(); e != it->end(); ++e) {
      if (const std::string* s = TokenContent(*e)) defaults.Set(e.key(), jinja::Value::String(*s));
    }
  }
  return Build(source, std::move(defaults), where);
}

}  // namespace ax
