#include "engine/source/socket_stream.h"

#include <fcntl.h>
#include <git2.h>
#include <git2/sys/stream.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "engine/base/env.h"
#include "engine/source/source.h"

namespace converge::source_internal {
namespace {

thread_local NetworkWatch* t_watch = nullptr;

// libgit2's git_socket_stream (src/libgit2/streams/socket.h, the same from 1.5 to 1.9). Its ssh
// transport takes the descriptor of the stream it connected through by casting to this.
struct LibgitSocketStream {
  git_stream parent;
  char* host;
  char* port;
  int s;
};

// Begins exactly like LibgitSocketStream; the rest is converge's.
struct DeadlineStream {
  git_stream parent;
  char* host;
  char* port;
  int s;
  NetworkWatch* watch;  // may be null
  Env* env;
  int64_t connect_timeout_ms;
  int64_t idle_timeout_ms;
};
static_assert(std::is_standard_layout_v<DeadlineStream> && std::is_standard_layout_v<LibgitSocketStream>);
static_assert(offsetof(DeadlineStream, parent) == offsetof(LibgitSocketStream, parent) &&
              offsetof(DeadlineStream, host) == offsetof(LibgitSocketStream, host) &&
              offsetof(DeadlineStream, port) == offsetof(LibgitSocketStream, port) &&
              offsetof(DeadlineStream, s) == offsetof(LibgitSocketStream, s));

DeadlineStream* Self(git_stream* stream) { return reinterpret_cast<DeadlineStream*>(stream); }

std::string Where(const DeadlineStream* st) { return std::string(st->host) + ":" + st->port; }

void SetError(const std::string& msg) { git_error_set_str(GIT_ERROR_NET, msg.c_str()); }

void Report(DeadlineStream* st, NetworkTimeout what) {
  if (st->watch != nullptr) st->watch->ReportTimeout(what);
}

// Waits until `fd` is ready for `events` or `timeout_ms` passed on the monotonic clock: 1 ready
// (or hung up: the next recv/send says how), 0 timed out, -1 poll failed (errno).
int WaitReady(Env* env, int fd, short events, int64_t timeout_ms) {
  const int64_t deadline = env->MonotonicMillis() + timeout_ms;
  int64_t remaining = timeout_ms;
  while (true) {
    pollfd p{fd, events, 0};
    int rc = poll(&p, 1, static_cast<int>(std::min<int64_t>(std::max<int64_t>(remaining, 0), INT32_MAX)));
    if (rc > 0) return 1;
    if (rc == 0) return 0;
    if (errno != EINTR) return -1;
    remaining = deadline - env->MonotonicMillis();
    if (remaining <= 0) return 0;
  }
}

int StreamConnect(git_stream* stream) {
  DeadlineStream* st = Self(stream);
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* info = nullptr;
  if (int rc = getaddrinfo(st->host, st->port, &hints, &info); rc != 0) {
    SetError("failed to resolve address for " + std::string(st->host) + ": " + gai_strerror(rc));
    return -1;
  }
  const int64_t deadline = st->env->MonotonicMillis() + st->connect_timeout_ms;
  std::string last_error = "no address";
  bool timed_out = false;
  for (addrinfo* p = info; p != nullptr && !timed_out; p = p->ai_next) {
    int fd = socket(p->ai_family, p->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, p->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int err = 0;
    if (connect(fd, p->ai_addr, p->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        int ready = WaitReady(st->env, fd, POLLOUT, std::max<int64_t>(deadline - st->env->MonotonicMillis(), 0));
        if (ready == 0) {
          timed_out = true;
        } else if (ready < 0) {
          err = errno;
        } else {
          socklen_t len = sizeof(err);
          if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
        }
      }
    }
    if (!timed_out && err == 0) {
      // Blocking again: libssh2 uses the descriptor directly. Reads and writes here poll first.
      int flags = fcntl(fd, F_GETFL);
      if (flags >= 0) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
      st->s = fd;
      if (st->watch != nullptr) st->watch->AddSocket(fd);
      freeaddrinfo(info);
      return 0;
    }
    if (!timed_out) last_error = std::strerror(err);
    close(fd);
  }
  freeaddrinfo(info);
  if (timed_out) {
    Report(st, NetworkTimeout::kConnect);
    SetError("connecting to " + Where(st) + " timed out after " + FormatDuration(st->connect_timeout_ms));
  } else {
    SetError("failed to connect to " + Where(st) + ": " + last_error);
  }
  return -1;
}

ssize_t StreamRead(git_stream* stream, void* data, size_t len) {
  DeadlineStream* st = Self(stream);
  int ready = WaitReady(st->env, st->s, POLLIN, st->idle_timeout_ms);
  if (ready == 0) {
    Report(st, NetworkTimeout::kIdle);
    SetError("no data from " + Where(st) + " for " + FormatDuration(st->idle_timeout_ms));
    return -1;
  }
  ssize_t n = -1;
  if (ready > 0) {
    do {
      n = recv(st->s, data, len, 0);
    } while (n < 0 && errno == EINTR);
  }
  if (n < 0) SetError("error receiving data from " + Where(st) + ": " + std::strerror(errno));
  return n;
}

ssize_t StreamWrite(git_stream* stream, const char* data, size_t len, int flags) {
  DeadlineStream* st = Self(stream);
  size_t sent = 0;
  while (sent < len) {
    int ready = WaitReady(st->env, st->s, POLLOUT, st->idle_timeout_ms);
    if (ready == 0) {
      Report(st, NetworkTimeout::kIdle);
      SetError("could not send to " + Where(st) + " for " + FormatDuration(st->idle_timeout_ms));
      return -1;
    }
    ssize_t n = -1;
    if (ready > 0) n = send(st->s, data + sent, len - sent, flags | MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      SetError("error sending data to " + Where(st) + ": " + std::strerror(errno));
      return -1;
    }
    sent += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(len);
}

int StreamClose(git_stream* stream) {
  DeadlineStream* st = Self(stream);
  if (st->s < 0) return 0;
  if (st->watch != nullptr) st->watch->RemoveSocket(st->s);
  int rc = close(st->s);
  st->s = -1;
  return rc == 0 ? 0 : -1;
}

void StreamFree(git_stream* stream) {
  DeadlineStream* st = Self(stream);
  StreamClose(stream);
  std::free(st->host);
  std::free(st->port);
  delete st;
}

int StreamNew(git_stream** out, const char* host, const char* port) {
  auto* st = new DeadlineStream{};
  st->parent.version = GIT_STREAM_VERSION;
  st->parent.connect = StreamConnect;
  st->parent.read = StreamRead;
  st->parent.write = StreamWrite;
  st->parent.close = StreamClose;
  st->parent.free = StreamFree;
  st->host = strdup(host != nullptr ? host : "");
  st->port = strdup(port != nullptr ? port : "");
  st->s = -1;
  st->watch = t_watch;
  st->env = t_watch != nullptr ? t_watch->env() : Env::Default();
  st->connect_timeout_ms = t_watch != nullptr ? t_watch->connect_timeout_ms() : kDefaultConnectTimeoutMs;
  st->idle_timeout_ms = t_watch != nullptr ? t_watch->idle_timeout_ms() : kDefaultIdleTimeoutMs;
  *out = &st->parent;
  return 0;
}

}  // namespace

NetworkWatch::NetworkWatch(Env* env, int64_t connect_timeout_ms, int64_t idle_timeout_ms)
    : env_(env), connect_timeout_ms_(connect_timeout_ms), idle_timeout_ms_(idle_timeout_ms) {}

NetworkWatch::~NetworkWatch() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

NetworkTimeout NetworkWatch::timed_out() const {
  std::lock_guard<std::mutex> lock(mu_);
  return timed_out_;
}

void NetworkWatch::ReportTimeout(NetworkTimeout what) {
  std::lock_guard<std::mutex> lock(mu_);
  if (timed_out_ == NetworkTimeout::kNone) timed_out_ = what;
}

void NetworkWatch::StartIdleWatchdog() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!watchdog_.joinable()) watchdog_ = std::thread([this] { WatchIdle(); });
}

void NetworkWatch::AddSocket(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  sockets_.insert(fd);
}

void NetworkWatch::RemoveSocket(int fd) {
  std::lock_guard<std::mutex> lock(mu_);
  sockets_.erase(fd);
}

// The kernel keeps the time since each TCP socket last received data; a socket whose silence
// reached the idle timeout is shut down (not closed: its owner closes it), which wakes whatever
// blocks on it with end-of-file.
void NetworkWatch::WatchIdle() {
  const auto period = std::chrono::milliseconds(std::clamp<int64_t>(idle_timeout_ms_ / 10, 10, 1000));
  std::set<int> shut;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, period);
    if (stopping_) break;
    for (int fd : sockets_) {
      if (shut.count(fd)) continue;
      tcp_info info{};
      socklen_t len = sizeof(info);
      if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) continue;
      if (static_cast<int64_t>(info.tcpi_last_data_recv) < idle_timeout_ms_) continue;
      if (timed_out_ == NetworkTimeout::kNone) timed_out_ = NetworkTimeout::kIdle;
      shutdown(fd, SHUT_RDWR);
      shut.insert(fd);
    }
    for (auto it = shut.begin(); it != shut.end();) it = sockets_.count(*it) ? std::next(it) : shut.erase(it);
  }
}

ScopedNetworkWatch::ScopedNetworkWatch(NetworkWatch* watch) : previous_(t_watch) { t_watch = watch; }
ScopedNetworkWatch::~ScopedNetworkWatch() { t_watch = previous_; }

int RegisterDeadlineStream() {
  static git_stream_registration registration{GIT_STREAM_VERSION, StreamNew, nullptr};
  return git_stream_register(GIT_STREAM_STANDARD, &registration);
}

std::string FormatDuration(int64_t ms) {
  if (ms < 1000) return std::to_string(ms) + " ms";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + " s";
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f s", static_cast<double>(ms) / 1000.0);
  return buf;
}

}  // namespace converge::source_internal
