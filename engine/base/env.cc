#include "engine/base/env.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace converge {

Result<std::string> Env::ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status Env::WriteFile(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::Unavailable("cannot write " + tmp, false);
    out << data;
    if (!out.flush()) return Status::Unavailable("cannot write " + tmp, false);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::Unavailable("cannot rename " + tmp + " to " + path + ": " + ec.message(), false);
  return Status::Ok();
}

bool Env::FileExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

Status Env::CreateDirs(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Status::Unavailable("cannot create directory " + path + ": " + ec.message(), false);
  return Status::Ok();
}

std::string Env::GetVar(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  return v ? v : "";
}

namespace {

class RealEnv : public Env {
 public:
  int64_t NowMillis() override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  void SleepMillis(int64_t ms) override {
    if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
};

}  // namespace

Env* Env::Default() {
  static RealEnv env;
  return &env;
}

}  // namespace converge
