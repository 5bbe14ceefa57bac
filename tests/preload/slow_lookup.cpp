// A slow DNS on demand, for a command started with this library in LD_PRELOAD: every
// getaddrinfo(3) of a host name (not of an IP address) first sleeps
// LPOPS_FAULT_LOOKUP_DELAY_MS milliseconds, as a lookup does whose DNS server does not answer.
// Every other call goes to the C library as it is.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netdb.h>
#include <time.h>

#include <cstdlib>

namespace {

using Getaddrinfo = int (*)(const char*, const char*, const struct addrinfo*, struct addrinfo**);

bool is_address(const char* node) {
  unsigned char buffer[sizeof(struct in6_addr)];
  return ::inet_pton(AF_INET, node, buffer) == 1 || ::inet_pton(AF_INET6, node, buffer) == 1;
}

}  // namespace

extern "C" int getaddrinfo(const char* node, const char* service, const struct addrinfo* hints, struct addrinfo** res) {
  static Getaddrinfo real = reinterpret_cast<Getaddrinfo>(::dlsym(RTLD_NEXT, "getaddrinfo"));
  const char* delay = std::getenv("LPOPS_FAULT_LOOKUP_DELAY_MS");
  if (node && delay && !is_address(node)) {
    const long ms = std::strtol(delay, nullptr, 10);
    struct timespec pause{ms / 1000, (ms % 1000) * 1'000'000};
    while (::nanosleep(&pause, &pause) != 0) {
    }
  }
  return real(node, service, hints, res);
}
