// Progress of an apply for a person: on a TTY a single live line that is rewritten in place, plain
// lines otherwise (one per finished action, retry and wait). Writes to stderr only.
#pragma once

#include <memory>

#include "engine/apply/apply.h"

namespace converge {

// `quiet` (with -o json) prints only failures.
std::unique_ptr<ApplyObserver> MakeProgressPrinter(bool tty, bool quiet);

}  // namespace converge
