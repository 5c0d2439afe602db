// HttpListener: httplib::Server with a graceful stop (ApiServer and DelegateServer).
#pragma once

#include <sys/socket.h>

#include <httplib.h>

namespace ax::server {

// httplib::Server with the two steps of a graceful stop that it lacks: stop accepting
// while open connections finish, and later end those connections.
class HttpListener : public httplib::Server {
 public:
  // accept() fails, so listen() leaves its loop and waits for its workers. The
  // socket number stays in svr_sock_, so streams and keep-alive loops go on.
  void StopAccepting() {
    const socket_t s = svr_sock_.load();
    if (s != INVALID_SOCKET) ::shutdown(s, SHUT_RDWR);
  }
  // cpp-httplib 0.11 listens with a backlog of 5: a burst of connections overflows it,
  // and the dropped SYNs cost their clients a 1 s retransmit. Linux lets a second
  // listen() on the bound socket raise the backlog.
  bool RaiseBacklog(int backlog) {
    const socket_t s = svr_sock_.load();
    return s != INVALID_SOCKET && ::listen(s, backlog) == 0;
  }
  // Streams and keep-alive loops check svr_sock_ and end. (listen() has closed the
  // socket itself by now, so it is not closed again.)
  void EndConnections() { svr_sock_ = INVALID_SOCKET; }
};

}  // namespace ax::server
