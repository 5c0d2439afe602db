// ax-engine-bench: generate, doctor, tokenize, synth-model, quantize, scenario, compare.
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.h"

namespace {

void PrintUsage() {
  std::fputs(
      "usage: ax-engine-bench <command> [options]\n"
      "\n"
      "commands:\n"
      "  generate     --model DIR (--prompt TEXT | --tokens 1,2,3 | --prompts-file F.jsonl) [--concurrency N]\n"
      "               [--max-tokens N] [--ignore-eos] [--kv-cache-mb N] [--block-size N] [--no-prefix-cache]\n"
      "               [--policy direct|ngram] [--max-draft N] [--compare-policies [--rounds N]]\n"
      "               [--temperature T --top-p P --top-k K --min-p M --seed S]\n"
      "               [--repetition-penalty R --presence-penalty P --frequency-penalty F]\n"
      "               [--backend auto|cpu|cuda] [--precision auto|bf16|f32] [--threads N]\n"
      "               [--ctx-size N] [--json]\n"
      "  generate     --support-tier openai_delegated|llama_cpp|auto|repo_owned --upstream-url URL\n"
      "               [--upstream-model NAME] | --support-tier llama_cpp --llama-cli BIN --gguf FILE\n"
      "               [--model DIR] (--prompt TEXT | --tokens 1,2,3) [--max-tokens N] [--stop S] [sampling] [--json "
      "[--stream]]\n"
      "  doctor       [--model DIR] [--json]\n"
      "  tokenize     --model DIR (--text TEXT | --file F) [--json]\n"
      "  synth-model  --shape NAME --dtype bf16|f16|f32 --seed S --out DIR [--tokenizer DIR]\n"
      "  quantize     [--bits 2|3|4|5|6|8] [--group-size 32|64|128] [--mode affine]\n"
      "               [--keep REGEX=BITS|float,...] [--threads N] IN_DIR OUT_DIR\n"
      "  scenario     --manifest FILE [--output-root DIR] [--root DIR] [--quiet]\n"
      "  compare      A.json B.json [--tolerance 0.05]\n",
      stderr);
}

}  // namespace

namespace ax::cli {

int UsageError(const char* cmd, const std::string& message) {
  std::fprintf(stderr, "ax-engine-bench %s: %s\n", cmd, message.c_str());
  return 2;
}

}  // namespace ax::cli

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    PrintUsage();
    return argc < 2 ? 2 : 0;
  }
  const std::string cmd = argv[1];
  if (cmd == "generate") return ax::cli::RunGenerate(argc, argv);
  if (cmd == "doctor") return ax::cli::RunDoctor(argc, argv);
  if (cmd == "tokenize") return ax::cli::RunTokenize(argc, argv);
  if (cmd == "synth-model") return ax::cli::RunSynthModel(argc, argv);
  if (cmd == "quantize") return ax::cli::RunQuantize(argc, argv);
  if (cmd == "scenario") return ax::cli::RunScenario(argc, argv);
  if (cmd == "compare") return ax::cli::RunCompare(argc, argv);
  std::fprintf(stderr, "ax-engine-bench: unknown command '%s'\n", cmd.c_str());
  PrintUsage();
  return 2;
}
