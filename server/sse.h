// Driving a Job to the client: as Server-Sent Events (stream: true) or as one JSON body.
//
// Streaming (OpenAI's wire format):
//   data: {chunk}\n\n   ... one per formatter chunk ...
//   data: [DONE]\n\n
// with ": keep-alive\n\n" comments while nothing else is sent for a while.
// A failed write or a closed peer cancels the job (its KV blocks are freed within one
// engine step); the engine keeps stepping other requests meanwhile.
#pragma once

#include <memory>
#include <string>

#include "format.h"
#include "job.h"
#include "peer.h"

namespace httplib {
struct Response;
}

namespace ax::server {

// "data: <json>\n\n"
std::string SseEvent(const nlohmann::json& chunk);

// Installs a chunked content provider on `res` that streams `job` (already started),
// with a ": keep-alive" comment after every keepalive_ms without output (0: never).
void StreamJob(httplib::Response& res, std::shared_ptr<Job> job, std::unique_ptr<Formatter> fmt, PeerWatch peer,
               int keepalive_ms);

// Waits for every choice of `job`; false (job cancelled) when the client hung up.
bool WaitForJob(Job& job, PeerWatch& peer);

}  // namespace ax::server
