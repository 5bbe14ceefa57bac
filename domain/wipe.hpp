#pragma once
// Secret texts (a private key's hex, a keystore's password) wiped when they are done with.
#include <string>

namespace lpops {

// Zeroes the whole of a text's buffer, not only its characters (a moved-from short string
// keeps all but its first byte in its own buffer), and empties it.
void wipe_text(std::string& text);

}  // namespace lpops
