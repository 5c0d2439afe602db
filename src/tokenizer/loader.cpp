// Loading: tokenizer.json (+ tokenizer_config.json) -> HfTokenizer, and the
// public ax::Tokenizer factory functions. nlohmann::json throws on malformed
// input; every call into it happens inside a try block here, so no exception
// leaves the library.
#include <fstream>
#include <sstream>

#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/json_reader.h"
#include "tokenizer/json_util.h"

namespace ax {
namespace tok {
namespace {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound(path + ": cannot open (missing or unreadable)");
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) return DataLoss(path + ": read failed");
  return ss.str();
}

bool ContainsType(const Json& j, const char* type) {
  if (j.is_object()) {
    const Json* t = FindField(j, "type");
    if (t != nullptr && t->is_string() && t->get<std::string>() == type) return true;
    for (const auto& [k, v] : j.items()) {
      if (ContainsType(v, type)) return true;
    }
  } else if (j.is_array()) {
    for (const Json& v : j) {
      if (ContainsType(v, type)) return true;
    }
  }
  return false;
}

Status ParseAddedTokens(const Json& root, const std::string& src, std::vector<AddedToken>* out) {
  const Json* list = FindField(root, "added_tokens");
  if (list == nullptr || list->is_null()) return Status::Ok();
  if (!list->is_array()) return TypeError(src + ": added_tokens", "an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const Json& t = (*list)[i];
    std::string where = src + ": added_tokens[" + std::to_string(i) + "]";
    AddedToken a;
    uint64_t id = 0;
    if (FindField(t, "id") == nullptr) return InvalidArgument(where + ".id: missing");
    AX_RETURN_IF_ERROR(GetOptUint(t, "id", where, &id));
    if (id > static_cast<uint64_t>(INT32_MAX / 2)) return InvalidArgument(where + ".id: out of range");
    a.id = static_cast<int32_t>(id);
    AX_RETURN_IF_ERROR(GetString(t, "content", where, &a.content));
    AX_RETURN_IF_ERROR(GetOptBool(t, "special", where, &a.special));
    a.normalized = !a.special;  // HF's default when the field is absent
    AX_RETURN_IF_ERROR(GetOptBool(t, "lstrip", where, &a.lstrip));
    AX_RETURN_IF_ERROR(GetOptBool(t, "rstrip", where, &a.rstrip));
    AX_RETURN_IF_ERROR(GetOptBool(t, "single_word", where, &a.single_word));
    AX_RETURN_IF_ERROR(GetOptBool(t, "normalized", where, &a.normalized));
    if (!a.content.empty()) out->push_back(std::move(a));
  }
  return Status::Ok();
}

// bos_token / eos_token: "text", {"content": "text", ...} or null.
Status ReadConfigToken(const Json& cfg, const char* name, const std::string& src,
                       std::optional<std::string>* out) {
  const Json* f = FindField(cfg, name);
  if (f == nullptr || f->is_null()) return Status::Ok();
  if (f->is_string()) {
    *out = f->get<std::string>();
    return Status::Ok();
  }
  if (const Json* c = FindField(*f, "content"); c != nullptr && c->is_string()) {
    *out = c->get<std::string>();
    return Status::Ok();
  }
  return TypeError(src + ": " + name, "a string, {\"content\": ...} or null");
}

Result<TokenizerConfig> ParseConfig(const std::string& text, const std::string& src) {
  TokenizerConfig c;
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(src + ": not valid JSON");
  if (!j.is_object()) return TypeError(src, "a JSON object");
  AX_RETURN_IF_ERROR(ReadConfigToken(j, "bos_token", src, &c.bos_token));
  AX_RETURN_IF_ERROR(ReadConfigToken(j, "eos_token", src, &c.eos_token));
  for (auto [name, field] : {std::pair{"add_bos_token", &c.add_bos_token}, std::pair{"add_eos_token", &c.add_eos_token}}) {
    const Json* f = FindField(j, name);
    if (f == nullptr || f->is_null()) continue;
    if (!f->is_boolean()) return TypeError(src + ": " + name, "true or false");
    *field = f->get<bool>();
  }
  return c;
}

}  // namespace

Result<std::unique_ptr<HfTokenizer>> HfTokenizer::FromJson(const std::string& json_text,
                                                           const std::string& src,
                                                           const TokenizerConfig* config) {
  try {
    AX_ASSIGN_OR_RETURN(TokenizerJson parsed, ReadTokenizerJson(json_text, src));
    const Json& root = parsed.root;
    if (!root.is_object()) return TypeError(src, "a JSON object");
    std::unique_ptr<HfTokenizer> t(new HfTokenizer());

    const Json* model = FindField(root, "model");
    if (model == nullptr || !model->is_object()) return TypeError(src + ": model", "an object");
    std::string type = "BPE";  // old files omit the type of a BPE model
    if (const Json* ty = FindField(*model, "type"); ty != nullptr) {
      if (!ty->is_string()) return TypeError(src + ": model.type", "a string");
      type = ty->get<std::string>();
    } else if (!parsed.bpe.has_merges) {
      return InvalidArgument(src + ": model.type: missing");
    }
    if (type != "BPE") {
      return Unimplemented(src + ": model.type '" + type + "' is not supported (expected BPE)");
    }
    AX_ASSIGN_OR_RETURN(t->model_, BpeModel::Parse(*model, std::move(parsed.bpe), src + ": model"));

    if (const Json* n = FindField(root, "normalizer"); n != nullptr && !n->is_null()) {
      AX_ASSIGN_OR_RETURN(t->normalizer_, ParseNormalizer(*n, src + ": normalizer"));
    }
    if (const Json* p = FindField(root, "pre_tokenizer"); p != nullptr && !p->is_null()) {
      AX_ASSIGN_OR_RETURN(t->pre_tokenizer_, ParsePreTokenizer(*p, src + ": pre_tokenizer"));
    }
    if (const Json* p = FindField(root, "post_processor"); p != nullptr && !p->is_null()) {
      AX_ASSIGN_OR_RETURN(t->post_processor_, ParsePostProcessor(*p, src + ": post_processor"));
      AX_RETURN_IF_ERROR(GetType(*p, src + ": post_processor", &t->post_processor_type_));
    }
    if (const Json* d = FindField(root, "decoder"); d != nullptr && !d->is_null()) {
      AX_ASSIGN_OR_RETURN(t->decoder_, ParseDecoder(*d, src + ": decoder"));
      t->has_byte_fallback_decoder_ = ContainsType(*d, "ByteFallback");
      t->has_byte_level_decoder_ = ContainsType(*d, "ByteLevel");
    }

    std::vector<AddedToken> added;
    AX_RETURN_IF_ERROR(ParseAddedTokens(root, src, &added));
    int32_t bound = t->model_->id_bound();
    for (const AddedToken& a : added) bound = std::max(bound, a.id + 1);
    t->vocab_size_ = bound;
    t->added_.Build(std::move(added), t->normalizer_.get());
    t->added_index_.assign(static_cast<size_t>(bound), -1);
    t->special_.assign(static_cast<size_t>(bound), false);
    const auto& toks = t->added_.tokens();
    for (size_t i = 0; i < toks.size(); ++i) {
      t->added_index_[toks[i].id] = static_cast<int32_t>(i);
      t->added_by_content_.emplace(toks[i].content, toks[i].id);
      if (toks[i].special) t->special_[toks[i].id] = true;
    }
    for (const AddedToken& a : toks) {
      // HF skips by token string: a model token spelled like a special one is skipped too.
      if (!a.special) continue;
      int32_t mid = t->model_->TokenToId(a.content);
      if (mid >= 0) t->special_[mid] = true;
    }
    TokenizerConfig empty;
    AX_RETURN_IF_ERROR(t->ApplyConfig(config != nullptr ? *config : empty, src));
    return t;
  } catch (const std::exception& e) {
    return InvalidArgument(src + ": " + e.what());
  }
}

// bos/eos ids from the config, else from the post-processor's template; and
// transformers' update_post_processor when add_bos_token/add_eos_token
// disagree with a TemplateProcessing (Llama/Gemma fast tokenizers rebuild it).
Status HfTokenizer::ApplyConfig(const TokenizerConfig& config, const std::string& src) {
  std::vector<int32_t> before, after;
  if (post_processor_ != nullptr) SpecialsAround(*post_processor_, &before, &after);
  auto lookup = [&](const std::optional<std::string>& tok, const char* name,
                    std::optional<int32_t>* out) -> Status {
    if (!tok.has_value()) return Status::Ok();
    std::optional<int32_t> id = PieceToId(*tok);
    if (!id.has_value()) {
      return InvalidArgument(src + ": tokenizer_config.json " + name + " '" + *tok + "' is not in the vocabulary");
    }
    *out = id;
    return Status::Ok();
  };
  AX_RETURN_IF_ERROR(lookup(config.bos_token, "bos_token", &bos_id_));
  AX_RETURN_IF_ERROR(lookup(config.eos_token, "eos_token", &eos_id_));
  if (!bos_id_.has_value() && !before.empty()) bos_id_ = before.front();
  if (!eos_id_.has_value() && !after.empty()) eos_id_ = after.back();

  bool templated = post_processor_ == nullptr || post_processor_type_ == "TemplateProcessing";
  if (!templated || (!config.add_bos_token.has_value() && !config.add_eos_token.has_value())) {
    return Status::Ok();
  }
  std::vector<int32_t> want_before = before, want_after = after;
  if (config.add_bos_token.has_value()) {
    want_before.clear();
    if (*config.add_bos_token && bos_id_.has_value()) want_before.push_back(*bos_id_);
  }
  if (config.add_eos_token.has_value()) {
    want_after.clear();
    if (*config.add_eos_token && eos_id_.has_value()) want_after.push_back(*eos_id_);
  }
  if (want_before == before && want_after == after) return Status::Ok();
  std::vector<TemplatePostProcessor::Item> items;
  if (!want_before.empty()) items.push_back({false, want_before});
  items.push_back({true, {}});
  if (!want_after.empty()) items.push_back({false, want_after});
  post_processor_ = std::make_unique<TemplatePostProcessor>(std::move(items));
  post_processor_type_ = "TemplateProcessing";
  return Status::Ok();
}

}  // namespace tok

Result<std::unique_ptr<Tokenizer>> Tokenizer::LoadFromJson(const std::string& tokenizer_json,
                                                           const std::string& source_name) {
  auto r = tok::HfTokenizer::FromJson(tokenizer_json, source_name, nullptr);
  if (!r.ok()) return r.status();
  return std::unique_ptr<Tokenizer>(std::move(r).value());
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::LoadFromDir(const std::string& dir) {
  const std::string json_path = dir + "/tokenizer.json";
  auto text = tok::ReadFile(json_path);
  if (!text.ok()) return text.status();
  tok::TokenizerConfig config;
  const std::string config_path = dir + "/tokenizer_config.json";
  if (std::ifstream(config_path).good()) {
    auto ctext = tok::ReadFile(config_path);
    if (!ctext.ok()) return ctext.status();
    try {
      auto c = tok::ParseConfig(*ctext, config_path);
      if (!c.ok()) return c.status();
      config = std::move(c).value();
    } catch (const std::exception& e) {
      return InvalidArgument(config_path + ": " + e.what());
    }
  }
  auto r = tok::HfTokenizer::FromJson(*text, json_path, &config);
  if (!r.ok()) return r.status();
  return std::unique_ptr<Tokenizer>(std::move(r).value());
}

}  // namespace ax
