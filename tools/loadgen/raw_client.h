// One HTTP exchange on a plain socket, for the requests a well-behaved client library
// will not send: bodies that lie about their length, garbage request lines, a client
// that hangs up after k events (with RST or FIN), one that reads its stream a few bytes
// at a time. The soak mode's faults (soak.h) are built from it. Linux sockets only.
#pragma once

#include <cstddef>
#include <string>

namespace ax::loadgen {

struct RawRequest {
  std::string bytes;            // the whole request as sent (request line, headers, body)
  bool half_close = false;      // shutdown(SHUT_WR) once sent: the server sees EOF mid-body
  int rcvbuf = 0;               // SO_RCVBUF before connect (a slow reader's small window); 0: default
  size_t read_chunk = 65536;    // bytes per recv
  int read_delay_ms = 0;        // sleep between recvs (a slow reader)
  int close_after_events = -1;  // hang up once this many SSE `data:` lines arrived; -1: never
  int close_after_ms = -1;      // hang up this long after sending, reading nothing; -1: never
  bool reset = false;           // hang up with RST (SO_LINGER 0) instead of FIN
  int timeout_s = 120;          // per send/recv
};

struct RawResponse {
  bool connected = false;
  bool hung_up = false;   // we closed on purpose (close_after_*)
  bool complete = false;  // the server sent a whole response (to EOF)
  int status = 0;         // 0: no status line
  std::string head;       // status line + headers
  std::string body;       // de-chunked when the response was chunked
  int events = 0;         // SSE `data:` lines seen
  std::string error;      // transport trouble (connect, send, recv, framing)
};

// REQUIRES: host is a name or address getaddrinfo resolves; bytes asks for `Connection: close`
// when the caller wants `complete` (the response is read to EOF).
RawResponse RawExchange(const std::string& host, int port, const RawRequest& req);

// A POST of `body` to `path` with the given Content-Length (the body's own size when < 0).
std::string RawPost(const std::string& path, const std::string& body, long long content_length = -1,
                    const std::string& extra_headers = "");

}  // namespace ax::loadgen
