#include "tokenizer/post_processors.h"

#include <map>
#include <sstream>

#include "tokenizer/json_util.h"

namespace ax::tok {
namespace {

class NoopPostProcessor final : public PostProcessor {
 public:
  void Process(std::vector<int32_t>*) const override {}
};

class SequencePostProcessor final : public PostProcessor {
 public:
  explicit SequencePostProcessor(std::vector<std::unique_ptr<PostProcessor>> parts) : parts_(std::move(parts)) {}
  void Process(std::vector<int32_t>* ids) const override {
    for (const auto& p : parts_) p->Process(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> parts_;
};

// Roberta/Bert give ["token", id] pairs.
Status ReadTokenPair(const Json& j, const char* name, const std::string& where, int32_t* id) {
  const Json* f = FindField(j, name);
  if (f == nullptr || !f->is_array() || f->size() != 2 || !(*f)[1].is_number_integer()) {
    return TypeError(where + "." + name, "[\"token\", id]");
  }
  *id = (*f)[1].get<int32_t>();
  return Status::Ok();
}

Result<std::unique_ptr<PostProcessor>> ParseTemplate(const Json& j, const std::string& where) {
  std::map<std::string, std::vector<int32_t>> specials;
  if (const Json* st = FindField(j, "special_tokens"); st != nullptr && st->is_object()) {
    for (auto it = st->begin(); it != st->end(); ++it) {
      const Json* ids = FindField(it.value(), "ids");
      if (ids == nullptr || !ids->is_array()) return TypeError(where + ".special_tokens." + it.key() + ".ids", "an array of ids");
      std::vector<int32_t> v;
      for (const Json& x : *ids) {
        if (!x.is_number_integer()) return TypeError(where + ".special_tokens." + it.key() + ".ids", "an array of ids");
        v.push_back(x.get<int32_t>());
      }
      specials[it.key()] = std::move(v);
    }
  }
  const Json* single = FindField(j, "single");
  if (single == nullptr) return InvalidArgument(where + ".single: missing");
  std::vector<TemplatePostProcessor::Item> items;
  auto add_special = [&](const std::string& name) -> Status {
    auto it = specials.find(name);
    if (it == specials.end()) {
      return InvalidArgument(where + ".single: special token '" + name + "' is not in special_tokens");
    }
    items.push_back({false, it->second});
    return Status::Ok();
  };
  if (single->is_string()) {
    // "[CLS] $A [SEP]" / "$A:0 <s>:1"
    std::istringstream in(single->get<std::string>());
    std::string word;
    while (in >> word) {
      std::string name = word.substr(0, word.rfind(':') == std::string::npos || word.rfind(':') == 0
                                             ? word.size() : word.rfind(':'));
      if (!name.empty() && name[0] == '$') {
        items.push_back({true, {}});
      } else {
        AX_RETURN_IF_ERROR(add_special(name));
      }
    }
  } else if (single->is_array()) {
    for (size_t i = 0; i < single->size(); ++i) {
      const Json& item = (*single)[i];
      std::string iw = where + ".single[" + std::to_string(i) + "]";
      if (FindField(item, "Sequence") != nullptr) {
        items.push_back({true, {}});
      } else if (const Json* sp = FindField(item, "SpecialToken")) {
        std::string id;
        AX_RETURN_IF_ERROR(GetString(*sp, "id", iw + ".SpecialToken", &id));
        AX_RETURN_IF_ERROR(add_special(id));
      } else {
        return TypeError(iw, "{\"Sequence\": ...} or {\"SpecialToken\": ...}");
      }
    }
  } else {
    return TypeError(where + ".single", "an array or a string");
  }
  return std::unique_ptr<PostProcessor>(new TemplatePostProcessor(std::move(items)));
}

}  // namespace

void TemplatePostProcessor::Process(std::vector<int32_t>* ids) const {
  std::vector<int32_t> out;
  out.reserve(ids->size() + 4);
  for (const Item& it : items_) {
    if (it.is_sequence) {
      out.insert(out.end(), ids->begin(), ids->end());
    } else {
      out.insert(out.end(), it.ids.begin(), it.ids.end());
    }
  }
  ids->swap(out);
}

Result<std::unique_ptr<PostProcessor>> ParsePostProcessor(const Json& j, const std::string& where) {
  std::string type;
  AX_RETURN_IF_ERROR(GetType(j, where, &type));
  if (type == "TemplateProcessing") return ParseTemplate(j, where);
  if (type == "ByteLevel") return std::unique_ptr<PostProcessor>(new NoopPostProcessor());
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    int32_t cls = -1, sep = -1;
    AX_RETURN_IF_ERROR(ReadTokenPair(j, "cls", where, &cls));
    AX_RETURN_IF_ERROR(ReadTokenPair(j, "sep", where, &sep));
    std::vector<TemplatePostProcessor::Item> items = {{false, {cls}}, {true, {}}, {false, {sep}}};
    return std::unique_ptr<PostProcessor>(new TemplatePostProcessor(std::move(items)));
  }
  if (type == "Sequence") {
    const Json* list = FindField(j, "processors");
    if (list == nullptr || !list->is_array()) return TypeError(where + ".processors", "an array");
    std::vector<std::unique_ptr<PostProcessor>> parts;
    for (size_t i = 0; i < list->size(); ++i) {
      if ((*list)[i].is_null()) continue;
      AX_ASSIGN_OR_RETURN(auto part, ParsePostProcessor((*list)[i], where + ".processors[" + std::to_string(i) + "]"));
      parts.push_back(std::move(part));
    }
    return std::unique_ptr<PostProcessor>(new SequencePostProcessor(std::move(parts)));
  }
  return Unimplemented(where + ".type '" + type +
                       "' is not supported (expected TemplateProcessing, ByteLevel, RobertaProcessing, "
                       "BertProcessing or Sequence)");
}

void SpecialsAround(const PostProcessor& pp, std::vector<int32_t>* before, std::vector<int32_t>* after) {
  constexpr int32_t kMark = -12345;
  std::vector<int32_t> ids = {kMark};
  pp.Process(&ids);
  before->clear();
  after->clear();
  bool seen = false;
  for (int32_t id : ids) {
    if (id == kMark) {
      seen = true;
    } else {
      (seen ? after : before)->push_back(id);
    }
  }
}

}  // namespace ax::tok
