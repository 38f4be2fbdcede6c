#include "engine/base/secret_key.h"

#include <fcntl.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "engine/base/env.h"

namespace converge {
namespace {

constexpr size_t kKeyBytes = 32;
constexpr const char* kHex = "0123456789abcdef";

std::string Hex(const unsigned char* p, size_t n) {
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[p[i] >> 4]);
    out.push_back(kHex[p[i] & 15]);
  }
  return out;
}

std::string RandomKey(Env* env) {
  std::string key;
  while (key.size() < kKeyBytes) {
    uint64_t r = env->RandomU64();
    for (int i = 0; i < 8 && key.size() < kKeyBytes; ++i) key.push_back(static_cast<char>((r >> (8 * i)) & 0xff));
  }
  return key;
}

// The key in `text` (64 hex digits, then optional whitespace), or "" when it holds none.
std::string ParseKey(const std::string& text) {
  std::string hex = text;
  while (!hex.empty() && std::isspace(static_cast<unsigned char>(hex.back()))) hex.pop_back();
  if (hex.size() != 2 * kKeyBytes) return "";
  std::string key;
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return "";
    key.push_back(static_cast<char>(hi << 4 | lo));
  }
  return key;
}

// Writes a new key to a private temporary file and links it to `path`; ok when another process
// linked its key first (the caller then reads that one).
Status CreateKeyFile(const std::string& path, Env* env) {
  std::string tmp = path + ".tmp." + std::to_string(env->ProcessId()) + "." + std::to_string(env->RandomU64() % 1000000);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::Unavailable("cannot create " + path + ": " + std::strerror(errno), false);
  }
  std::string key = RandomKey(env);
  std::string text = Hex(reinterpret_cast<const unsigned char*>(key.data()), key.size()) + "\n";
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  int err = errno;
  close(fd);
  if (ok && link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    ok = false;
    err = errno;
  }
  unlink(tmp.c_str());
  if (!ok) return Status::Unavailable("cannot create " + path + ": " + std::strerror(err), false);
  return Status::Ok();
}

}  // namespace

Result<SecretKey> SecretKey::Open(const std::string& state_dir, Env* env) {
  std::string path = state_dir + "/secret.key";
  Result<std::string> text = env->ReadFile(path);
  if (!text.ok() && text.status().code() == Code::kNotFound) {
    CONVERGE_RETURN_IF_ERROR(CreateKeyFile(path, env));
    text = env->ReadFile(path);
  }
  if (!text.ok()) return text.status().WithContext("reading the key of Secret hashes " + path);
  std::string key = ParseKey(*text);
  if (key.empty()) {
    return Status::Corrupt(path + " holds no key (64 hex digits): remove it, and converge makes a new one (each "
                           "Secret then shows as changed once)");
  }
  return SecretKey(std::move(key));
}

SecretKey SecretKey::Ephemeral(Env* env) { return SecretKey(RandomKey(env)); }

std::string SecretKey::Tag(std::string_view value) const { return HmacSha256Hex(key_, value).substr(0, 16); }

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), digest, &len);
  return Hex(digest, len);
}

}  // namespace converge
