// ax-engine-bench subcommands. Each returns the process exit code.
#pragma once

#include <string>

namespace ax::cli {

int RunGenerate(int argc, char** argv);
// generate --support-tier openai_delegated|llama_cpp|auto --upstream-url URL: through an ax::Session.
int RunSessionGenerate(int argc, char** argv);
int RunDoctor(int argc, char** argv);
int RunTokenize(int argc, char** argv);
int RunSynthModel(int argc, char** argv);
int RunQuantize(int argc, char** argv);
int RunScenario(int argc, char** argv);
int RunCompare(int argc, char** argv);

// Prints "ax-engine-bench <cmd>: <message>" to stderr and returns 2.
int UsageError(const char* cmd, const std::string& message);

}  // namespace ax::cli
