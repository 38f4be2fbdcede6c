#include "engine/cli/cli.h"

int main(int argc, char** argv) { return converge::RunCli(argc, argv); }
