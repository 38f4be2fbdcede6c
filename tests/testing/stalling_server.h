// A TCP server on 127.0.0.1 that stalls, for tests of network deadlines: it accepts and never
// answers, answers with a partial reply and then says nothing more, or never accepts at all (its
// accept queue is kept full, so a new connection's SYN is dropped and connecting hangs). Every
// connection stays open until the server is destroyed. Waits only on its sockets and a pipe,
// never on a clock. Use from one thread.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

namespace converge::testing {

class StallingServer {
 public:
  enum class Mode { kSilent, kPartialReply, kNeverAccept };

  // With kPartialReply, `partial` is sent after the first bytes of the request arrive.
  explicit StallingServer(Mode mode, std::string partial = "") : mode_(mode), partial_(std::move(partial)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    // Backlog 0 holds one connection that was not accepted; the next SYN is dropped.
    int backlog = mode == Mode::kNeverAccept ? 0 : 16;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(listen_fd_, backlog) != 0 ||
        getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || pipe(wake_) != 0) {
      ADD_FAILURE() << "cannot start the stalling server";
      return;
    }
    port_ = ntohs(addr.sin_port);
    if (mode == Mode::kNeverAccept) {
      filler_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (connect(filler_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        ADD_FAILURE() << "cannot fill the stalling server's accept queue";
      }
      return;
    }
    thread_ = std::thread([this] { Serve(); });
  }

  ~StallingServer() {
    if (wake_[1] >= 0) {
      char c = 'x';
      ssize_t n = write(wake_[1], &c, 1);
      (void)n;
    }
    if (thread_.joinable()) thread_.join();
    for (int c : conns_) close(c);
    for (int fd : {listen_fd_, filler_, wake_[0], wake_[1]}) {
      if (fd >= 0) close(fd);
    }
  }

  StallingServer(const StallingServer&) = delete;
  StallingServer& operator=(const StallingServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& scheme, const std::string& path = "x") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + "/" + path;
  }

 private:
  void Serve() {
    std::vector<int> awaiting_request;  // kPartialReply: connections not answered yet
    while (true) {
      std::vector<pollfd> fds{{wake_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
      for (int c : awaiting_request) fds.push_back({c, POLLIN, 0});
      if (poll(fds.data(), fds.size(), -1) < 0) continue;
      if (fds[0].revents != 0) return;
      if (fds[1].revents & POLLIN) {
        int c = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          conns_.push_back(c);
          if (mode_ == Mode::kPartialReply) awaiting_request.push_back(c);
        }
      }
      for (size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        char buf[4096];
        ssize_t n = read(fds[i].fd, buf, sizeof(buf));
        (void)n;
        ssize_t w = send(fds[i].fd, partial_.data(), partial_.size(), MSG_NOSIGNAL);
        (void)w;
        std::erase(awaiting_request, fds[i].fd);
      }
    }
  }

  Mode mode_;
  std::string partial_;
  int listen_fd_ = -1;
  int filler_ = -1;
  int wake_[2] = {-1, -1};
  int port_ = 0;
  std::vector<int> conns_;  // owned by the serving thread until it is joined
  std::thread thread_;
};

}  // namespace converge::testing
