// PeerWatch: has the client of a request hung up? cpp-httplib 0.11 notices a closed
// connection only when a write fails, which is too late for a request that is still
// queued or is not streaming. PeerWatch finds the request's socket (by its local and
// remote ports) and polls it: a FIN or RST means the client is gone and its request is
// cancelled, freeing its KV blocks.
#pragma once

#include <string>

namespace httplib {
struct Request;
}

namespace ax::server {

class PeerWatch {
 public:
  PeerWatch() = default;
  explicit PeerWatch(const httplib::Request& req);
  // True once the peer closed or reset the connection. Cheap (one poll); the socket
  // is looked up on the first call.
  bool Closed();

 private:
  std::string remote_addr_;
  int remote_port_ = -1, local_port_ = -1;
  bool looked_up_ = false;
  int fd_ = -1;
};

}  // namespace ax::server
