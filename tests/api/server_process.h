// A live ax-engine-server child process for tests that need a real upstream: started
// on a free port (--port 0), its URL read from the "listening on" line, stopped with
// SIGTERM when the object goes away.
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

namespace ax::test {

class ServerProcess {
 public:
  // Empty url() when the server could not start (stderr goes to the test's log).
  explicit ServerProcess(std::vector<std::string> args) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      args.insert(args.begin(), AX_SERVER_BIN);
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(AX_SERVER_BIN, argv.data());
      _exit(127);
    }
    close(out[1]);
    FILE* f = fdopen(out[0], "r");
    char line[512];
    const std::string marker = "listening on ";
    while (f && std::fgets(line, sizeof(line), f)) {
      std::string s(line);
      const size_t at = s.find(marker);
      if (at == std::string::npos) continue;
      url_ = s.substr(at + marker.size());
      while (!url_.empty() && (url_.back() == '\n' || url_.back() == '\r')) url_.pop_back();
      break;
    }
    if (f) std::fclose(f);  // the server writes nothing more to stdout
  }

  ~ServerProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }

  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

}  // namespace ax::test
