// The socket under every network fetch of engine/source, with deadlines. libgit2 1.5 cannot bound
// a blocked read by itself: GIT_OPT_SET_SERVER_CONNECT_TIMEOUT / GIT_OPT_SET_SERVER_TIMEOUT arrived
// in 1.7, and its transfer_progress and sideband callbacks run only when data arrives, so they
// never notice that none does. So converge registers its own GIT_STREAM_STANDARD stream
// (git_stream_register), through which libgit2's git://, http:// and https:// (its TLS stream
// wraps this one) transports, and the connect of ssh://, all go:
//   - connect: a non-blocking connect to each resolved address in turn, polled until the
//     connect deadline (one deadline for all addresses);
//   - read / write: poll(2) for at most the idle timeout before each recv / send;
//   - ssh://: libssh2 reads the descriptor itself (libgit2 hands it over by casting the stream to
//     its git_socket_stream, which is why this stream keeps that struct's layout), so during an
//     ssh fetch a watchdog thread shuts the socket down once the kernel reports no data received
//     for the idle timeout (TCP_INFO's tcpi_last_data_recv).
// Chosen over running the fetch in a child process with a kill timeout because it keeps
// credentials in this process, needs no second entry point into the binary, forks nothing from a
// multi-threaded daemon, and says precisely what timed out (connect or idle, and where).
// Name resolution (getaddrinfo) is bounded by the resolver's own timeouts, not by these.
// A fetch binds its limits and its report to the calling thread with ScopedNetworkWatch:
// libgit2 makes a remote's network calls on the thread that called it. A stream opened with no
// watch bound uses the defaults and reports nowhere. NetworkWatch is thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>

namespace converge {

class Env;

namespace source_internal {

enum class NetworkTimeout { kNone, kConnect, kIdle };

// One fetch's limits, and what ran out.
class NetworkWatch {
 public:
  NetworkWatch(Env* env, int64_t connect_timeout_ms, int64_t idle_timeout_ms);
  ~NetworkWatch();  // stops the idle watchdog
  NetworkWatch(const NetworkWatch&) = delete;
  NetworkWatch& operator=(const NetworkWatch&) = delete;

  Env* env() const { return env_; }
  int64_t connect_timeout_ms() const { return connect_timeout_ms_; }
  int64_t idle_timeout_ms() const { return idle_timeout_ms_; }

  // The first timeout that expired since the watch was made; kNone when none did.
  NetworkTimeout timed_out() const;
  void ReportTimeout(NetworkTimeout what);

  // Starts the thread that shuts down any open socket of this watch that received no data for
  // the idle timeout (for transports that read the socket themselves: ssh).
  void StartIdleWatchdog();

  // Sockets of this watch's streams (for the watchdog). Remove before closing the descriptor.
  void AddSocket(int fd);
  void RemoveSocket(int fd);

 private:
  void WatchIdle();

  Env* env_;
  const int64_t connect_timeout_ms_;
  const int64_t idle_timeout_ms_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  NetworkTimeout timed_out_ = NetworkTimeout::kNone;
  std::set<int> sockets_;
  bool stopping_ = false;
  std::thread watchdog_;
};

// Binds `watch` to the calling thread for the object's lifetime (restoring the previous one).
class ScopedNetworkWatch {
 public:
  explicit ScopedNetworkWatch(NetworkWatch* watch);
  ~ScopedNetworkWatch();
  ScopedNetworkWatch(const ScopedNetworkWatch&) = delete;
  ScopedNetworkWatch& operator=(const ScopedNetworkWatch&) = delete;

 private:
  NetworkWatch* previous_;
};

// Registers the stream with libgit2 (after git_libgit2_init). Returns libgit2's error code.
int RegisterDeadlineStream();

// "2 s", "1.5 s", "250 ms": a duration for messages.
std::string FormatDuration(int64_t ms);

}  // namespace source_internal
}  // namespace converge
