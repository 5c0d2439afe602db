#include "peer.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <httplib.h>

namespace ax::server {
namespace {

bool PortAndHost(const sockaddr_storage& a, socklen_t len, int* port, std::string* host) {
  if (a.ss_family == AF_INET) *port = ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  else if (a.ss_family == AF_INET6) *port = ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  else return false;
  char buf[NI_MAXHOST];
  if (host && getnameinfo(reinterpret_cast<const sockaddr*>(&a), len, buf, sizeof(buf), nullptr, 0, NI_NUMERICHOST) == 0)
    *host = buf;
  return true;
}

// The connected socket whose local port is `local_port` and whose peer is
// remote_addr:remote_port, or -1.
int FindSocket(int local_port, const std::string& remote_addr, int remote_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int found = -1;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage a{};
    socklen_t len = sizeof(a);
    int port = -1;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
        !PortAndHost(a, len, &port, nullptr) || port != local_port)
      continue;
    len = sizeof(a);
    std::string host;
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
        !PortAndHost(a, len, &port, &host) || port != remote_port || host != remote_addr)
      continue;
    found = static_cast<int>(fd);
    break;
  }
  closedir(dir);
  return found;
}

}  // namespace

PeerWatch::PeerWatch(const httplib::Request& req)
    : remote_addr_(req.remote_addr), remote_port_(req.remote_port), local_port_(req.local_port) {}

bool PeerWatch::Closed() {
  if (!looked_up_) {
    looked_up_ = true;
    if (remote_port_ > 0 && local_port_ > 0) fd_ = FindSocket(local_port_, remote_addr_, remote_port_);
  }
  if (fd_ < 0) return false;
  pollfd p{fd_, static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) return true;
  if (p.revents & POLLIN) {
    char c;
    const ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0;  // > 0: a pipelined request, still connected
  }
  return false;
}

}  // namespace ax::server
