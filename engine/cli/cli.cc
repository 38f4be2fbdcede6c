#include "engine/cli/cli.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <optional>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "engine/base/env.h"
#include "engine/cli/output.h"
#include "engine/cli/progress.h"
#include "engine/cli/suggest.h"
#include "engine/reconcile/reconciler.h"
#include "engine/store/store.h"
#include "providers/provider.h"
#include "providers/sim/sim_world.h"

namespace converge {
namespace {

// Set by SIGINT/SIGTERM during an apply: no new step starts, running ones finish, the run is
// recorded. The handler is reset after the first signal, so a second one ends the process.
std::atomic<bool> g_stop{false};
std::atomic<int> g_signal{0};

extern "C" void OnStopSignal(int signo) {
  g_signal.store(signo);
  g_stop.store(true);
}

void InstallStopHandlers() {
  struct sigaction sa;
  std::memset(&sa, 0, sizeof(sa));
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

struct GlobalOptions {
  std::string state_dir;
  std::string output;  // "" or "json"
  int verbose = 0;
};

void AddSourceOptions(CLI::App* cmd, SourceSpec* o) {
  cmd->add_option("--repo", o->url, "Git repository: URL (file://, git://, http(s)://, ssh://) or local path")
      ->required();
  cmd->add_option("--ref", o->ref, "branch, tag or full commit SHA (default: the remote's default branch)");
  cmd->add_option("--path", o->path, "subdirectory of the repository holding the specs");
  cmd->add_option("--token-env", o->token_env, "environment variable holding an https token");
  cmd->add_option("--username-env", o->username_env, "environment variable holding the https user name");
  cmd->add_option("--ssh-key-env", o->ssh_key_env, "environment variable holding the path of an ssh private key");
  cmd->add_option_function<double>(
         "--fetch-timeout",
         [o](double seconds) {
           o->connect_timeout_ms = o->idle_timeout_ms = std::max<int64_t>(1, std::llround(seconds * 1000));
         },
         "seconds to wait for the Git server to connect, and for each read from it (default: 30 to connect, "
         "60 without data)")
      ->check(CLI::PositiveNumber);
}

std::string DefaultStateDir(Env* env) {
  std::string dir = env->GetVar("CONVERGE_STATE_DIR");
  if (!dir.empty()) return dir;
  std::string xdg = env->GetVar("XDG_STATE_HOME");
  if (!xdg.empty()) return xdg + "/converge";
  std::string home = env->GetVar("HOME");
  return (home.empty() ? std::string(".") : home) + "/.local/state/converge";
}

// Whether argv asks for -o json; used when parsing failed and the options are not known.
bool WantsJson(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "-ojson" || a == "--output=json") return true;
    if ((a == "-o" || a == "--output") && i + 1 < argc && std::string(argv[i + 1]) == "json") return true;
  }
  return false;
}

bool StderrIsTty() { return isatty(STDERR_FILENO) == 1; }

// Whether output to `fd` may be coloured: a TTY, unless NO_COLOR is set to anything but "" (https://no-color.org).
bool ColorOn(int fd) { return isatty(fd) == 1 && Env::Default()->GetVar("NO_COLOR").empty(); }

// A CLI11 check that the value is a number from `lo` to `hi` (`lo` itself excluded when
// `lo_open`), whole when `whole`; the message names the range, and CLI11 prefixes the flag.
CLI::Validator NumberIn(double lo, double hi, bool lo_open, bool whole, const std::string& unit) {
  auto fmt = [](double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.15g", v);
    return std::string(buf);
  };
  std::string range = whole ? "a whole number from " + fmt(lo) + " to " + fmt(hi)
                            : (lo_open ? "a number greater than " + fmt(lo) + " and at most " + fmt(hi)
                                       : "a number from " + fmt(lo) + " to " + fmt(hi));
  if (!unit.empty()) range += " " + unit;
  return CLI::Validator(
      [=](std::string& value) -> std::string {
        char* end = nullptr;
        errno = 0;
        double v = std::strtod(value.c_str(), &end);
        bool ok = !value.empty() && end != nullptr && *end == '\0' && errno == 0 && std::isfinite(v) &&
                  (lo_open ? v > lo : v >= lo) && v <= hi && (!whole || v == std::floor(v));
        return ok ? std::string() : "must be " + range + ", got \"" + value + "\"";
      },
      range);
}

// The options of `app` itself, formatted as its --help lists them: the footer of every
// subcommand's help, so each shows the global options it accepts.
std::string GlobalOptionsHelp(const CLI::App& app) {
  std::string out = "Global options (accepted before or after the command):\n";
  CLI::Formatter formatter;
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_name() == "--help" || opt->get_name() == "--version") continue;
    out += formatter.make_option(opt, false);
  }
  return out;
}

// The subcommand names under `app`, in definition order.
std::vector<std::string> CommandNames(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::App* sub : app.get_subcommands({})) out.push_back(sub->get_name());
  return out;
}

const CLI::App* FindCommand(const CLI::App& app, const std::string& name) {
  for (const CLI::App* sub : app.get_subcommands({}))
    if (sub->get_name() == name) return sub;
  return nullptr;
}

// An option of `app` or of an app above it (global options fall through).
const CLI::Option* FindOption(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent()) {
    if (const CLI::Option* o = app->get_option_no_throw(name)) return o;
  }
  return nullptr;
}

struct UnknownCommandError {
  std::string message;
  std::string within;  // the command whose --help lists the right words ("" for the top level)
};

// When a command word of argv names no command (CLI11 would only say "A subcommand is
// required"): the error, with the closest commands as git suggests them.
std::optional<UnknownCommandError> UnknownCommand(const CLI::App& app, int argc, char** argv) {
  const CLI::App* level = &app;
  std::string path;  // the command words so far, "sim "
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--") break;
    if (a.size() > 1 && a[0] == '-') {
      // An option: skip its value when it takes one and it is not attached (--opt=v, -ov).
      bool attached = a.find('=') != std::string::npos || (a[1] != '-' && a.size() > 2);
      const CLI::Option* o = FindOption(level, a);
      if (!attached && o != nullptr && o->get_items_expected_min() > 0) i++;
      continue;
    }
    std::vector<std::string> names = CommandNames(*level);
    if (names.empty()) break;  // positional arguments of a command
    if (const CLI::App* sub = FindCommand(*level, a)) {
      level = sub;
      path += a + " ";
      continue;
    }
    std::string msg = "unknown command \"" + path + a + "\"";
    std::vector<std::string> similar = SimilarWords(a, names);
    if (similar.size() == 1) {
      msg += ": did you mean \"" + path + similar[0] + "\"?";
    } else if (!similar.empty()) {
      msg += ": did you mean one of";
      for (size_t k = 0; k < similar.size(); k++) msg += std::string(k ? ", " : " ") + "\"" + path + similar[k] + "\"";
      msg += "?";
    } else {
      msg += ": the commands are";
      for (size_t k = 0; k < names.size(); k++) msg += std::string(k ? ", " : " ") + path + names[k];
    }
    return UnknownCommandError{msg, path.empty() ? "" : path.substr(0, path.size() - 1)};
  }
  return std::nullopt;
}

// Usage errors in one line, naming what is wrong and where to read more (`command`'s --help);
// -o json also gets a document.
int UsageError(const std::string& message, const std::string& command, const std::string& lists, bool json) {
  std::cerr << "error: " << message << " (converge " << (command.empty() ? "" : command + " ") << "--help lists "
            << lists << ")\n";
  if (json) std::cout << nlohmann::json{{"error", message}, {"code", "usage"}}.dump(2) << "\n";
  return 1;
}

int Fail(const Status& st, const GlobalOptions& g) {
  // Errors go to stderr in both modes; with -o json, stdout still gets one JSON document.
  std::cerr << "error: " << st.message() << "\n";
  if (g.output == "json") {
    std::cout << nlohmann::json{{"error", st.message()}, {"code", CodeName(st.code())}}.dump(2) << "\n";
  }
  return 1;
}

// Everything a command needs: the store and a reconciler over it.
struct Session {
  std::unique_ptr<Store> store;
  std::unique_ptr<Reconciler> reconciler;
};

Result<Session> OpenSession(const GlobalOptions& g) {
  Env* env = Env::Default();
  Status st = env->CreateDirs(g.state_dir);
  if (!st.ok()) return st;
  Result<std::unique_ptr<Store>> store = Store::Open(g.state_dir + "/converge.db", env);
  if (!store.ok()) return store.status();
  Session s;
  s.store = std::move(store).value();
  s.reconciler = std::make_unique<Reconciler>(env, s.store.get(), &ProviderRegistry::Global(), g.state_dir);
  return s;
}

int RunValidate(const GlobalOptions& g, const SourceSpec& src) {
  Result<Session> s = OpenSession(g);
  if (!s.ok()) return Fail(s.status(), g);
  Result<ValidateResult> r = s->reconciler->Validate(src);
  if (!r.ok()) return Fail(r.status(), g);
  std::cout << (g.output == "json" ? ValidateToJson(*r) : ValidateToText(*r));
  return 0;
}

// Per Cluster the plan deletes: the objects the inventory records on it, of every source.
Result<std::map<std::string, std::vector<InventoryEntry>>> ObjectsOnDeletedClusters(Store* store, const Plan& plan) {
  std::map<std::string, std::vector<InventoryEntry>> out;
  std::optional<std::vector<SourceRecord>> sources;
  for (const Action& a : plan.actions) {
    if (a.type != ChangeType::kDelete || !a.ref.cluster.empty() || a.ref.key.kind != "Cluster") continue;
    if (!sources) {
      Result<std::vector<SourceRecord>> list = store->sources()->List();
      if (!list.ok()) return list.status();
      sources = std::move(list).value();
    }
    std::vector<InventoryEntry>& objects = out[a.ref.key.name];
    for (const SourceRecord& src : *sources) {
      Result<std::vector<InventoryEntry>> rows = store->inventory()->LoadClusterIndex(src.id, a.ref.key.name);
      if (!rows.ok()) return rows.status();
      for (InventoryEntry& e : *rows) objects.push_back(std::move(e));
    }
  }
  return out;
}

int RunPlan(const GlobalOptions& g, const SyncRequest& req, bool detailed, bool compact) {
  Result<Session> s = OpenSession(g);
  if (!s.ok()) return Fail(s.status(), g);
  Result<PlannedSync> r = s->reconciler->ComputePlan(req);
  if (!r.ok()) return Fail(r.status(), g);
  PlanView view;
  view.color = ColorOn(STDOUT_FILENO);
  view.compact = compact;
  Result<std::map<std::string, std::vector<InventoryEntry>>> destroyed = ObjectsOnDeletedClusters(s->store.get(), r->plan);
  if (!destroyed.ok()) return Fail(destroyed.status(), g);
  view.destroyed_with = std::move(destroyed).value();
  std::cout << (g.output == "json" ? PlanToJson(*r, view) : PlanToText(*r, view));
  if (!r->unreachable_clusters.empty()) {
    // The plan is incomplete: "no changes" (0) or "changes" (2) would both be a guess.
    std::string names;
    for (const auto& c : r->unreachable_clusters) names += (names.empty() ? "" : ", ") + c;
    std::cerr << "error: the plan is incomplete: clusters " << names << " could not be observed\n";
    return 1;
  }
  if (detailed && !r->plan.empty()) return 2;
  return 0;
}

int RunApply(const GlobalOptions& g, SyncRequest req) {
  Result<Session> s = OpenSession(g);
  if (!s.ok()) return Fail(s.status(), g);
  std::unique_ptr<ApplyObserver> progress = MakeProgressPrinter(StderrIsTty(), g.output == "json", Env::Default());
  InstallStopHandlers();
  req.apply.stop = &g_stop;
  Result<ApplyOutcome> r = s->reconciler->Sync(req, {progress.get()});
  progress.reset();
  if (!r.ok()) return Fail(r.status(), g);
  if (g.output == "json") {
    std::cout << ApplyToJson(*r);
  } else {
    if (!r->planned.warnings.empty()) {
      for (const Diagnostic& d : r->planned.warnings) std::cerr << "warning: " << d.ToString() << "\n";
    }
    std::cout << ApplyToText(*r, ColorOn(STDOUT_FILENO));
  }
  if (r->report.interrupted) {
    int signo = g_signal.load();
    std::cerr << "error: interrupted by " << (signo == SIGTERM ? "SIGTERM" : "SIGINT") << ": "
              << r->status.message() << "; the run is recorded (converge history), and apply again finishes it\n";
    return 1;
  }
  if (!r->status.ok()) {
    std::cerr << "error: " << r->status.message() << "\n";
    return 1;
  }
  return 0;
}

int RunStatus(const GlobalOptions& g) {
  Result<Session> s = OpenSession(g);
  if (!s.ok()) return Fail(s.status(), g);
  Result<FleetStatus> r = s->reconciler->CurrentStatus();
  if (!r.ok()) return Fail(r.status(), g);
  std::cout << (g.output == "json" ? StatusToJson(*r) : StatusToText(*r, ColorOn(STDOUT_FILENO)));
  return 0;
}

int RunHistory(const GlobalOptions& g, int limit) {
  Result<Session> s = OpenSession(g);
  if (!s.ok()) return Fail(s.status(), g);
  Result<std::vector<SyncRun>> runs = s->store->runs()->List(limit);
  if (!runs.ok()) return Fail(runs.status(), g);
  std::cout << (g.output == "json" ? HistoryToJson(*runs) : HistoryToText(*runs));
  return 0;
}

struct SimArgs {
  std::string cluster, kind, name, patch, fault;
};

int RunSim(const GlobalOptions& g, const std::string& verb, const SimArgs& a) {
  Env* env = Env::Default();
  Status st = env->CreateDirs(g.state_dir);
  if (!st.ok()) return Fail(st, g);
  Result<std::unique_ptr<SimWorld>> world = SimWorld::Open(g.state_dir, env);
  if (!world.ok()) return Fail(world.status(), g);
  if (verb == "list") {
    Result<Json> list = (*world)->List();
    if (!list.ok()) return Fail(list.status(), g);
    std::cout << (g.output == "json" ? list->dump(2) + "\n" : (*world)->FormatList(*list));
    return 0;
  }
  if (verb == "patch") st = (*world)->Patch(a.cluster, a.kind, a.name, a.patch);
  if (verb == "delete") st = (*world)->Delete(a.cluster, a.kind, a.name);
  if (verb == "fault") st = (*world)->Fault(a.cluster, a.fault);
  if (verb == "heal") st = (*world)->Heal(a.cluster);
  if (!st.ok()) return Fail(st, g);
  if (g.output == "json") {
    std::cout << nlohmann::json{{"ok", true}}.dump() << "\n";
  } else {
    std::cout << "sim " << verb << ": done\n";
  }
  return 0;
}

}  // namespace

int RunCli(int argc, char** argv) {
  Env* env = Env::Default();
  CLI::App app{"converge: GitOps for multi-cloud Kubernetes fleets"};
  app.require_subcommand(1);
  app.fallthrough();  // global options (--state-dir, -o) may also follow the subcommand
  app.set_version_flag("--version", std::string("converge 0.1.0"));
  GlobalOptions g;
  g.state_dir = DefaultStateDir(env);
  app.add_option("--state-dir", g.state_dir, "state directory (env CONVERGE_STATE_DIR)")->capture_default_str();
  app.add_option("-o,--output", g.output, "output format: text (the default) or json (one JSON document on stdout)")->check(CLI::IsMember({"json", "text"}));
  app.add_flag("-v,--verbose", g.verbose, "more logs on stderr (repeat for debug)");

  SyncRequest req;
  SourceSpec& src = req.source;
  ApplyOptions& apply = req.apply;
  bool no_prune = false, prune = false, detailed = false, compact = false;
  double timeout_s = 300;
  int history_limit = 50;

  CLI::App* validate = app.add_subcommand("validate", "parse and validate specs; no provider calls");
  AddSourceOptions(validate, &src);

  CLI::App* plan = app.add_subcommand("plan", "show what apply would change");
  AddSourceOptions(plan, &src);
  plan->add_flag("--detailed-exitcode", detailed, "exit 2 when there are changes, 0 when none, 1 on error");
  plan->add_flag("--no-prune", no_prune, "do not plan deletes of objects Git no longer has");
  plan->add_flag("--allow-destroy", req.allow_destroy,
                 "plan deletes of Clusters Git no longer has (listing the objects on each, which go with it)");
  plan->add_flag("--compact", compact, "one line per create: without the YAML of what it will contain");

  CLI::App* applyc = app.add_subcommand("apply", "converge the fleet to the commit");
  AddSourceOptions(applyc, &src);
  applyc->add_flag("--prune", prune, "delete objects converge created that Git no longer has (default)");
  applyc->add_flag("--no-prune", no_prune, "keep objects Git no longer has");
  applyc->add_flag("--allow-destroy", req.allow_destroy, "allow deleting Clusters Git no longer has");
  applyc->add_option("--parallelism", apply.parallelism, "provider calls in flight across the fleet (clusters worked on at once)")
      ->check(NumberIn(1, 256, /*lo_open=*/false, /*whole=*/true, ""))
      ->capture_default_str();
  applyc->add_option("--cluster-parallelism", apply.cluster_parallelism, "provider calls in flight per cluster")
      ->check(NumberIn(1, 64, /*lo_open=*/false, /*whole=*/true, ""))
      ->capture_default_str();
  applyc->add_flag("--wait", apply.wait,
                   "also wait until every applied object is Healthy and every declared cluster is Running. Without "
                   "it, apply still waits for cluster operations (create, scale, upgrade, delete) to finish, for a "
                   "cluster to be Running before applying objects to it, and for each sync wave to be Healthy before "
                   "the next starts; it does not wait for the last wave's objects to become Healthy");
  applyc->add_option("--timeout", timeout_s,
                     "seconds each wait may take: a cluster operation, a cluster Running, a sync wave Healthy, --wait")
      ->check(NumberIn(0, 86400, /*lo_open=*/true, /*whole=*/false, "seconds"))
      ->capture_default_str();

  CLI::App* status = app.add_subcommand("status", "clusters and managed objects: health, drift, last sync");
  CLI::App* history = app.add_subcommand("history", "sync runs: commit, time, result, counts");
  history->add_option("--limit", history_limit, "most recent runs to show")
      ->check(NumberIn(1, 1000000, /*lo_open=*/false, /*whole=*/true, ""))
      ->capture_default_str();

  CLI::App* sim = app.add_subcommand("sim", "look at and perturb the simulated clouds");
  sim->require_subcommand(1);
  SimArgs sa;
  CLI::App* sim_list = sim->add_subcommand("list", "clouds, clusters, nodes and objects");
  CLI::App* sim_patch = sim->add_subcommand("patch", "JSON merge patch a live object (creates drift)");
  sim_patch->add_option("CLUSTER", sa.cluster)->required();
  sim_patch->add_option("KIND", sa.kind)->required();
  sim_patch->add_option("NAME", sa.name, "NAMESPACE/NAME, or NAME for cluster-scoped objects")->required();
  sim_patch->add_option("PATCH", sa.patch, "JSON merge patch, e.g. '{\"spec\":{\"replicas\":5}}'")->required();
  CLI::App* sim_delete = sim->add_subcommand("delete", "delete a live object");
  sim_delete->add_option("CLUSTER", sa.cluster)->required();
  sim_delete->add_option("KIND", sa.kind)->required();
  sim_delete->add_option("NAME", sa.name, "NAMESPACE/NAME, or NAME for cluster-scoped objects")->required();
  CLI::App* sim_fault = sim->add_subcommand("fault", "inject a fault: outage | api-errors=RATE | latency=MS");
  sim_fault->add_option("CLUSTER", sa.cluster)->required();
  sim_fault->add_option("FAULT", sa.fault)->required();
  CLI::App* sim_heal = sim->add_subcommand("heal", "clear every fault of a cluster");
  sim_heal->add_option("CLUSTER", sa.cluster)->required();

  // Every command's --help lists the global options too.
  std::vector<CLI::App*> commands = {validate, plan, applyc, status, history, sim};
  for (CLI::App* sub : sim->get_subcommands({})) commands.push_back(sub);
  for (CLI::App* cmd : commands) cmd->footer([&app] { return GlobalOptionsHelp(app); });

  if (std::optional<UnknownCommandError> unknown = UnknownCommand(app, argc, argv)) {
    return UsageError(unknown->message, unknown->within, "the commands", WantsJson(argc, argv));
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::string command;  // the command words given, for where to read more
    for (const CLI::App* at = &app; !at->get_subcommands().empty(); at = at->get_subcommands().front()) {
      command += (command.empty() ? "" : " ") + at->get_subcommands().front()->get_name();
    }
    return UsageError(e.what(), command, "the options", WantsJson(argc, argv));
  }
  if (g.output == "text") g.output.clear();
  if (prune && no_prune) {
    std::cerr << "error: --prune and --no-prune contradict each other: give one\n";
    return 1;
  }
  apply.timeout_ms = static_cast<int64_t>(timeout_s * 1000);
  req.prune = !no_prune;

  // Providers registered themselves at start-up; two claiming one name is a broken build.
  std::vector<Status> registration = ProviderRegistry::Global().RegistrationErrors();
  if (!registration.empty()) {
    std::string msg;
    for (const Status& e : registration) msg += (msg.empty() ? "" : "\n") + e.message();
    return Fail(Status::Internal("provider registration failed:\n" + msg), g);
  }

  auto logger = spdlog::stderr_color_mt("converge", ColorOn(STDERR_FILENO) ? spdlog::color_mode::automatic
                                                                           : spdlog::color_mode::never);
  spdlog::set_default_logger(logger);
  spdlog::set_level(g.verbose >= 2 ? spdlog::level::debug : g.verbose == 1 ? spdlog::level::info : spdlog::level::warn);
  spdlog::set_pattern("%^%l%$: %v");

  try {
    if (*validate) return RunValidate(g, src);
    if (*plan) return RunPlan(g, req, detailed, compact);
    if (*applyc) return RunApply(g, req);
    if (*status) return RunStatus(g);
    if (*history) return RunHistory(g, history_limit);
    if (*sim_list) return RunSim(g, "list", sa);
    if (*sim_patch) return RunSim(g, "patch", sa);
    if (*sim_delete) return RunSim(g, "delete", sa);
    if (*sim_fault) return RunSim(g, "fault", sa);
    if (*sim_heal) return RunSim(g, "heal", sa);
  } catch (const std::exception& e) {
    return Fail(Status::Internal(std::string("unexpected: ") + e.what()), g);
  }
  return 1;
}

}  // namespace converge
