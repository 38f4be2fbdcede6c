// The converge command line (CLI11): validate, plan, apply, status, history, sim.
// RunCli parses argv, runs one command and returns the process exit code (0 success, 1 error,
// 2 from `plan --detailed-exitcode` when there are changes). With -o json exactly one JSON document
// goes to stdout; logs and progress go to stderr.
#pragma once

namespace converge {

int RunCli(int argc, char** argv);

}  // namespace converge
