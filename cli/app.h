// The `sluice` command line: parses arguments with CLI11 into the options of one verb
// (cli/commands.h) and runs it. Usage errors print one line
// "sluice <verb>: <reason> (see: sluice <verb> --help)" and return exit code 2; --help prints
// help on stdout and returns 0. Main thread only.
#pragma once

#include <string>
#include <vector>

#include "cli/commands.h"

namespace sluice::cli {

// `args` excludes the program name: {"run", "job.yaml", "--detached"}.
int RunCli(const std::vector<std::string>& args, CommandEnv& env);

}  // namespace sluice::cli
