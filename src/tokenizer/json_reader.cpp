#include "tokenizer/json_reader.h"

namespace ax::tok {
namespace {

// A nlohmann SAX handler: a DOM builder (as nlohmann's json_sax_dom_parser)
// that diverts model.vocab and model.merges into BpeTables.
class Reader {
 public:
  explicit Reader(TokenizerJson* out) : out_(out) {}

  bool null() { return Value(nullptr); }
  bool boolean(bool v) { return Value(v); }
  bool number_integer(int64_t v) { return mode_ == Mode::kVocab ? VocabId(v) : Value(v); }
  bool number_unsigned(uint64_t v) {
    return mode_ == Mode::kVocab ? VocabId(v > INT64_MAX ? -1 : static_cast<int64_t>(v)) : Value(v);
  }
  bool number_float(double v, const std::string&) { return mode_ == Mode::kVocab ? Fail("model.vocab", "an integer id") : Value(v); }
  bool binary(Json::binary_t&) { return Fail("", "JSON"); }
  bool string(std::string& v) {
    switch (mode_) {
      case Mode::kDom: return Value(std::move(v));
      case Mode::kVocab: return Fail("model.vocab[\"" + key_ + "\"]", "an integer id");
      case Mode::kMerges: {
        size_t sp = v.find(' ');
        if (sp == std::string::npos || v.find(' ', sp + 1) != std::string::npos) {
          out_->bpe.merges.emplace_back(std::move(v), "\x01");
        } else {
          out_->bpe.merges.emplace_back(v.substr(0, sp), v.substr(sp + 1));
        }
        return true;
      }
      case Mode::kMergePair:
        pair_.push_back(std::move(v));
        return true;
    }
    return false;
  }
  bool key(std::string& k) {
    if (mode_ == Mode::kVocab) {
      key_ = std::move(k);
      return true;
    }
    last_key_ = k;
    object_element_ = &(*stack_.back())[k];
    return true;
  }
  bool start_object(size_t) {
    if (mode_ != Mode::kDom) return Fail(Where(), "a string or [\"a\", \"b\"]");
    if (IsAt("vocab")) {
      mode_ = Mode::kVocab;
      out_->bpe.has_vocab = true;
      return true;
    }
    return Open(Json::value_t::object);
  }
  bool end_object() {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kDom;
      return true;
    }
    return Close();
  }
  bool start_array(size_t) {
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kMergePair;
      pair_.clear();
      return true;
    }
    if (mode_ != Mode::kDom) return Fail(Where(), "a string or a number");
    if (IsAt("merges")) {
      mode_ = Mode::kMerges;
      out_->bpe.has_merges = true;
      return true;
    }
    return Open(Json::value_t::array);
  }
  bool end_array() {
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() != 2) return Fail("model.merges[" + std::to_string(out_->bpe.merges.size()) + "]", "\"a b\" or [\"a\", \"b\"]");
      out_->bpe.merges.emplace_back(std::move(pair_[0]), std::move(pair_[1]));
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kDom;
      return true;
    }
    return Close();
  }
  bool parse_error(size_t pos, const std::string&, const nlohmann::detail::exception& ex) {
    if (error_.empty()) error_ = "not valid JSON at byte " + std::to_string(pos) + ": " + ex.what();
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  enum class Mode { kDom, kVocab, kMerges, kMergePair };

  // True when the container about to open is root.model.<name>.
  bool IsAt(const char* name) const {
    return names_.size() == 2 && names_[1] == "model" && !stack_.empty() && stack_.back()->is_object() &&
           last_key_ == name;
  }
  std::string Where() const {
    return mode_ == Mode::kVocab ? "model.vocab" : "model.merges[" + std::to_string(out_->bpe.merges.size()) + "]";
  }
  bool VocabId(int64_t v) {
    if (v < 0) return Fail("model.vocab[\"" + key_ + "\"]", "a non-negative integer id");
    out_->bpe.vocab.emplace_back(std::move(key_), v);
    return true;
  }
  bool Fail(const std::string& where, const std::string& expected) {
    error_ = where + ": expected " + expected;
    return false;
  }
  template <typename V>
  Json* Place(V&& v) {
    if (stack_.empty()) {
      out_->root = Json(std::forward<V>(v));
      return &out_->root;
    }
    if (stack_.back()->is_array()) {
      stack_.back()->emplace_back(std::forward<V>(v));
      return &stack_.back()->back();
    }
    *object_element_ = Json(std::forward<V>(v));
    return object_element_;
  }
  template <typename V>
  bool Value(V&& v) {
    if (mode_ == Mode::kMerges || mode_ == Mode::kMergePair) return Fail(Where(), "\"a b\" or [\"a\", \"b\"]");
    Place(std::forward<V>(v));
    return true;
  }
  bool Open(Json::value_t t) {
    std::string name = stack_.empty() ? "" : stack_.back()->is_object() ? last_key_ : "[]";
    stack_.push_back(Place(t));
    names_.push_back(std::move(name));
    return true;
  }
  bool Close() {
    stack_.pop_back();
    names_.pop_back();
    return true;
  }

  TokenizerJson* out_;
  Mode mode_ = Mode::kDom;
  std::vector<Json*> stack_;
  std::vector<std::string> names_;  // key of each open container ("" root, "[]" array item)
  Json* object_element_ = nullptr;
  std::string last_key_;
  std::string key_;  // current vocab key
  std::vector<std::string> pair_;
  std::string error_;
};

}  // namespace

Result<TokenizerJson> ReadTokenizerJson(const std::string& text, const std::string& src) {
  TokenizerJson out;
  out.bpe.vocab.reserve(text.size() / 64);
  Reader reader(&out);
  bool ok = false;
  try {
    ok = Json::sax_parse(text, &reader);
  } catch (const std::exception& e) {
    return InvalidArgument(src + ": " + e.what());
  }
  if (!ok) return InvalidArgument(src + ": " + (reader.error().empty() ? "not valid JSON" : reader.error()));
  return out;
}

}  // namespace ax::tok
