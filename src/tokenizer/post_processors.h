// Post-processors of tokenizer.json ("post_processor"), applied to the ids of a
// single sequence when Encode(..., add_special_tokens=true):
//   TemplateProcessing  "<s> $A"            -> [1, ...ids]
//   RobertaProcessing   "<s> $A </s>",  BertProcessing "[CLS] $A [SEP]"
//   ByteLevel           ids unchanged (it only trims offsets)
//   Sequence            each in turn
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "ax/status.h"

namespace ax::tok {

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  virtual void Process(std::vector<int32_t>* ids) const = 0;
};

// A template of special-token ids around the single sequence ($A).
class TemplatePostProcessor final : public PostProcessor {
 public:
  struct Item {
    bool is_sequence = false;
    std::vector<int32_t> ids;  // for a special token
  };
  explicit TemplatePostProcessor(std::vector<Item> items) : items_(std::move(items)) {}
  void Process(std::vector<int32_t>* ids) const override;

 private:
  std::vector<Item> items_;
};

// Roberta/Bert name their tokens with ids; TemplateProcessing carries the ids
// of its special tokens in "special_tokens". Only the "single" template is used.
Result<std::unique_ptr<PostProcessor>> ParsePostProcessor(const nlohmann::json& j, const std::string& where);

// The ids a post-processor puts before and after the sequence (BOS/EOS guess).
void SpecialsAround(const PostProcessor& pp, std::vector<int32_t>* before, std::vector<int32_t>* after);

}  // namespace ax::tok
