// Progress of an apply for a person: on a TTY a single live line that is rewritten in place,
// "[done/total done, elapsed] what is happening", redrawn every second so the elapsed time moves
// during waits, and a last line with the count and the time taken; plain lines otherwise (one per
// finished action, retry and wait). Writes to stderr only. Called on the apply's loop thread.
#pragma once

#include <memory>

#include "engine/apply/apply.h"

namespace converge {

class Env;

// `quiet` (with -o json) prints only failures. Elapsed time is measured on `env`'s monotonic
// clock from the printer's creation.
std::unique_ptr<ApplyObserver> MakeProgressPrinter(bool tty, bool quiet, Env* env);

}  // namespace converge
