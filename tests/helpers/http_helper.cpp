// A small HTTP server for the tests: `http_helper PORT [UNHEALTHY] [--tls]` (0: any free port;
// --tls: HTTPS with a self-signed certificate made at start, where httplib has OpenSSL)
// answers GET /health with 503 to its first UNHEALTHY requests, then 200 "healthy"; serves
// GET of any path -> "hello", logs each request on stderr, prints "listening on port P" once bound,
// and stops cleanly (exit 0) on SIGTERM or on POST /quit. /echo... answers every method with
// "METHOD PATH body=BODY type=CONTENT-TYPE x-probe=X-PROBE" (HEAD: no body).
#include <httplib.h>
#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#endif
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <atomic>
#include <memory>
#include <string_view>
#include <thread>

int main(int argc, char** argv) {
  bool tls = argc >= 2 && std::string_view(argv[argc - 1]) == "--tls";
  if (tls) --argc;
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: http_helper PORT [UNHEALTHY] [--tls]\n");
    return 2;
  }
  std::atomic<int> unhealthy{argc == 3 ? std::atoi(argv[2]) : 0};
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // handled by the waiting thread below

#ifdef CPPHTTPLIB_OPENSSL_SUPPORT
  std::unique_ptr<httplib::Server> owned;
  if (tls) {
    // A throwaway self-signed certificate for 127.0.0.1.
    EVP_PKEY* key = EVP_RSA_gen(2048);
    X509* cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
    owned = std::make_unique<httplib::SSLServer>(cert, key);
    X509_free(cert);
    EVP_PKEY_free(key);
  } else {
    owned = std::make_unique<httplib::Server>();
  }
  httplib::Server& server = *owned;
#else
  if (tls) {
    std::fprintf(stderr, "http_helper: cpp-httplib has no OpenSSL support\n");
    return 3;
  }
  httplib::Server server;
#endif
  server.Get("/health", [&](const httplib::Request&, httplib::Response& res) {
    if (unhealthy.fetch_sub(1) > 0) {
      res.status = 503;
      res.set_content("warming up", "text/plain");
    } else {
      res.set_content("healthy", "text/plain");
    }
  });
  server.Get("/crash", [](const httplib::Request&, httplib::Response&) {
    std::fprintf(stderr, "about to crash\n");
    std::abort();
  });
  server.Post("/quit", [](const httplib::Request&, httplib::Response& res) {
    std::fprintf(stderr, "quit requested\n");
    res.set_content("bye", "text/plain");
    // The stopper thread below takes it from here (it logs "got SIGTERM"); the listen loop
    // finishes this answer before it returns.
    ::kill(::getpid(), SIGTERM);
  });
  auto echo = [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.method + " " + req.path + " body=" + req.body + " type=" + req.get_header_value("Content-Type") +
                        " x-probe=" + req.get_header_value("X-Probe"),
                    "text/plain");
  };
  server.Get("/echo.*", echo);  // HEAD too
  server.Post("/echo.*", echo);
  server.Put("/echo.*", echo);
  server.Patch("/echo.*", echo);
  server.Delete("/echo.*", echo);
  server.Options("/echo.*", echo);
  server.Get(".*", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("hello", "text/plain");
  });
  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    std::fprintf(stderr, "%s %s -> %d (client port %d)\n", req.method.c_str(), req.path.c_str(),
                 res.status, req.remote_port);
  });
  int port = std::atoi(argv[1]);
  if (port == 0) port = server.bind_to_any_port("127.0.0.1");
  else if (!server.bind_to_port("127.0.0.1", port)) port = -1;
  if (port <= 0) {
    std::fprintf(stderr, "cannot bind 127.0.0.1:%s\n", argv[1]);
    return 1;
  }
  std::printf("listening on port %d\n", port);
  std::fflush(stdout);
  std::atomic<bool> listen_returned{false};
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&set, &sig);
    std::fprintf(stderr, "got SIGTERM, stopping\n");
    // httplib's stop() does nothing until listen has started, and a SIGTERM can come right
    // after the ready line: wait out that short window (the listen call is already running).
    while (!server.is_running() && !listen_returned) std::this_thread::yield();
    server.stop();
  });
  server.listen_after_bind();
  listen_returned = true;
  stopper.join();
  return 0;
}
