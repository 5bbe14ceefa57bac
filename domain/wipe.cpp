#include "domain/wipe.hpp"

#include <openssl/crypto.h>

namespace lpops {

void wipe_text(std::string& text) {
  text.resize(text.capacity());  // within the buffer it has: nothing moves
  OPENSSL_cleanse(text.data(), text.size());
  text.clear();
}

}  // namespace lpops
