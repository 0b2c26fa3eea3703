// C++17: the header through a small RAII wrapper (unique_ptr with the free
// functions, exceptions carrying the library's last error).
// Environment: REGC_TEST_OPEN_URL.
#include <cstdlib>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "registry_client.h"

namespace regc {

template <typename T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *p) const noexcept { Free(p); }
};
using Config = std::unique_ptr<regc_config, Deleter<regc_config, regc_config_free>>;
using Client = std::unique_ptr<regc_client, Deleter<regc_client, regc_client_free>>;
using StringList = std::unique_ptr<regc_string_list, Deleter<regc_string_list, regc_string_list_free>>;
using Manifest = std::unique_ptr<regc_manifest, Deleter<regc_manifest, regc_manifest_free>>;
using String = std::unique_ptr<char, Deleter<char, regc_string_free>>;

struct Error : std::runtime_error {
  regc_status status;
  uint16_t http_status;
  Error(regc_status s)
      : std::runtime_error(std::string(regc_status_name(s)) + ": " + regc_last_error_message()),
        status(s),
        http_status(regc_last_error_http_status()) {}
};

inline void check(regc_status s) {
  if (s != REGC_OK) throw Error(s);
}

inline Client connect(const std::string &url) {
  Config cfg(regc_config_new(url.c_str()));
  if (!cfg) throw Error(REGC_ERR_INVALID_ARGUMENT);
  check(regc_config_set_max_retries(cfg.get(), 0));
  regc_client *raw = nullptr;
  check(regc_client_new(cfg.get(), &raw));
  return Client(raw);
}

inline std::vector<std::string> tags(const Client &c, const std::string &repo) {
  regc_string_list *raw = nullptr;
  check(regc_list_tags(c.get(), repo.c_str(), &raw));
  StringList list(raw);
  std::vector<std::string> out;
  for (size_t i = 0; i < regc_string_list_len(list.get()); i++) {
    out.emplace_back(regc_string_list_get(list.get(), i));
  }
  return out;
}

inline Manifest manifest(const Client &c, const std::string &repo, const std::string &ref) {
  regc_manifest *raw = nullptr;
  check(regc_get_manifest(c.get(), repo.c_str(), ref.c_str(), &raw));
  return Manifest(raw);
}

inline std::string image_info(const Client &c, const std::string &repo, const std::string &ref) {
  char *raw = nullptr;
  check(regc_image_info_json(c.get(), repo.c_str(), ref.c_str(), nullptr, &raw));
  return String(raw).get();
}

}  // namespace regc

static int failures = 0;
#define EXPECT(cond)                                                              \
  do {                                                                            \
    if (!(cond)) {                                                                \
      std::cerr << __FILE__ << ":" << __LINE__ << ": EXPECT failed: " #cond "\n"; \
      failures++;                                                                 \
    }                                                                             \
  } while (0)

int main() {
  const char *url = std::getenv("REGC_TEST_OPEN_URL");
  if (url == nullptr) {
    std::cerr << "FATAL: REGC_TEST_OPEN_URL is not set\n";
    return 2;
  }
  try {
    regc::Client client = regc::connect(url);
    auto t = regc::tags(client, "many/tags");
    EXPECT(t.size() == 25);

    regc::Manifest m = regc::manifest(client, "oci/app", "v1");
    std::string_view digest = regc_manifest_digest(m.get());
    EXPECT(digest.substr(0, 7) == "sha256:");
    size_t len = 0;
    const uint8_t *body = regc_manifest_body(m.get(), &len);
    EXPECT(body != nullptr && len > 0);

    std::string info = regc::image_info(client, "oci/app", "v1");
    EXPECT(info.find("\"entrypoint\":[\"/bin/app\"]") != std::string::npos);

    try {
      regc::tags(client, "no/such-repo");
      EXPECT(false);
    } catch (const regc::Error &e) {
      EXPECT(e.status == REGC_ERR_NOT_FOUND);
      EXPECT(e.http_status == 404);
      EXPECT(std::string(e.what()).find("REGC_ERR_NOT_FOUND: not found") == 0);
    }
    try {
      regc::connect("ftp://nope");
      EXPECT(false);
    } catch (const regc::Error &e) {
      EXPECT(e.status == REGC_ERR_INVALID_ARGUMENT);
    }
  } catch (const std::exception &e) {
    std::cerr << "unexpected exception: " << e.what() << "\n";
    return 1;
  }
  if (failures > 0) {
    std::cerr << "test_cpp: " << failures << " check(s) FAILED\n";
    return 1;
  }
  std::cout << "test_cpp: all checks passed (library " << regc_version() << ")\n";
  return 0;
}
