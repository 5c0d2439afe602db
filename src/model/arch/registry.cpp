// The one table of architectures: adding a family is a file in arch/ and a line here.
#include "model/arch/arch.h"

namespace ax {

const std::vector<const ArchInfo*>& Architectures() {
  static const std::vector<const ArchInfo*> all{&LlamaArch(),    &Qwen3Arch(),      &Gemma3Arch(), &Gemma4Arch(),
                                                &Qwen3MoeArch(), &Qwen3NextArch(),  &Qwen35Arch(), &Qwen35MoeArch(),
                                                &Glm4MoeArch(),  &Glm4MoeLiteArch()};
  return all;
}

const ArchInfo& ArchFor(ModelFamily family) {
  for (const ArchInfo* a : Architectures())
    if (a->family == family) return *a;
  return LlamaArch();  // unreachable: every ModelFamily has an entry (tests/model checks)
}

}  // namespace ax
