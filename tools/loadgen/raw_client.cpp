#include "raw_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace ax::loadgen {
namespace {

int Connect(const std::string& host, int port, const RawRequest& req, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) {
    *error = "cannot resolve " + host;
    return -1;
  }
  int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (fd >= 0) {
    if (req.rcvbuf > 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &req.rcvbuf, sizeof(req.rcvbuf));
    timeval tv{req.timeout_s, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
      *error = std::string("connect: ") + std::strerror(errno);
      close(fd);
      fd = -1;
    }
  } else {
    *error = std::string("socket: ") + std::strerror(errno);
  }
  freeaddrinfo(res);
  return fd;
}

void HangUp(int fd, bool reset) {
  if (reset) {
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
  }
  close(fd);
}

int CountEvents(const std::string& s, size_t from) {
  int n = 0;
  for (size_t p = from; (p = s.find("data: ", p)) != std::string::npos; p += 6) ++n;
  return n;
}

// Chunked transfer coding → the payload; false when the framing is broken or cut short.
bool Dechunk(const std::string& in, std::string* out) {
  size_t p = 0;
  for (;;) {
    const size_t eol = in.find("\r\n", p);
    if (eol == std::string::npos) return false;
    char* end = nullptr;
    const unsigned long long n = std::strtoull(in.c_str() + p, &end, 16);
    if (end == in.c_str() + p) return false;
    p = eol + 2;
    if (n == 0) return true;  // trailers, if any, are ignored
    if (in.size() < p + n + 2) return false;
    out->append(in, p, n);
    p += n + 2;
  }
}

void ParseResponse(const std::string& raw, RawResponse* r) {
  const size_t head_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.", 0) != 0 || head_end == std::string::npos) {
    if (r->error.empty()) r->error = raw.empty() ? "no response" : "no complete response head";
    return;
  }
  r->head = raw.substr(0, head_end);
  r->status = std::atoi(raw.c_str() + raw.find(' ') + 1);
  std::string lower = r->head;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const std::string body = raw.substr(head_end + 4);
  if (lower.find("transfer-encoding: chunked") != std::string::npos) {
    if (!Dechunk(body, &r->body) && r->error.empty() && !r->hung_up) r->error = "chunked body cut short";
    return;
  }
  r->body = body;
  const size_t cl = lower.find("content-length:");
  if (cl != std::string::npos && std::strtoull(lower.c_str() + cl + 15, nullptr, 10) != body.size() &&
      r->error.empty() && !r->hung_up)
    r->error = "body shorter than its Content-Length";
}

}  // namespace

std::string RawPost(const std::string& path, const std::string& body, long long content_length,
                    const std::string& extra_headers) {
  const long long cl = content_length < 0 ? static_cast<long long>(body.size()) : content_length;
  return "POST " + path + " HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\nConnection: close\r\n" +
         extra_headers + "Content-Length: " + std::to_string(cl) + "\r\n\r\n" + body;
}

RawResponse RawExchange(const std::string& host, int port, const RawRequest& req) {
  RawResponse r;
  const int fd = Connect(host, port, req, &r.error);
  if (fd < 0) return r;
  r.connected = true;
  // Send all; a server that answers early (413) and closes may cut the send short, so a
  // failed send still reads what came back.
  for (size_t off = 0; off < req.bytes.size();) {
    const ssize_t n = send(fd, req.bytes.data() + off, req.bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      if (errno == EINTR) continue;
      r.error = std::string("send: ") + std::strerror(errno);
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (req.half_close) shutdown(fd, SHUT_WR);
  if (req.close_after_ms >= 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(req.close_after_ms));
    r.hung_up = true;
    HangUp(fd, req.reset);
    return r;
  }
  std::string raw;
  std::string chunk(req.read_chunk, '\0');
  size_t scan_from = 0;
  for (;;) {
    const ssize_t n = recv(fd, chunk.data(), chunk.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      if (r.error.empty() || r.error.rfind("send:", 0) == 0) r.error = std::string("recv: ") + std::strerror(errno);
      break;
    }
    if (n == 0) {
      r.complete = true;
      break;
    }
    raw.append(chunk.data(), static_cast<size_t>(n));
    // An occurrence starting in the last 5 bytes is not whole yet, so it is counted next time.
    r.events += CountEvents(raw, scan_from);
    scan_from = raw.size() >= 5 ? raw.size() - 5 : 0;
    if (req.close_after_events >= 0 && r.events >= req.close_after_events) {
      r.hung_up = true;
      break;
    }
    if (req.read_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(req.read_delay_ms));
  }
  if (r.hung_up)
    HangUp(fd, req.reset);
  else
    close(fd);
  if (r.complete && r.error.rfind("send:", 0) == 0) r.error.clear();  // the answer came anyway
  ParseResponse(raw, &r);
  return r;
}

}  // namespace ax::loadgen
