// C++17: the header through a small RAII wrapper (unique_ptr with the free
// functions, exceptions carrying the library's last error).
// Environment: REGC_TEST_OPEN_URL (the seed, read-only), REGC_TEST_WRITE_URL
// (an empty registry without auth).
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <sstream>
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

inline std::string take(char *raw) { return String(raw).get(); }

inline std::string upload(const Client &c, const std::string &repo, const std::string &data) {
  char *raw = nullptr;
  check(regc_blob_upload_buffer(c.get(), repo.c_str(),
                                reinterpret_cast<const uint8_t *>(data.data()), data.size(), &raw));
  return take(raw);
}

// Streams any std::istream through the read callback; a stream that goes
// bad is an error (-1).
inline std::string upload(const Client &c, const std::string &repo, std::istream &in) {
  auto read = [](void *user, uint8_t *buf, size_t len) -> ptrdiff_t {
    auto *is = static_cast<std::istream *>(user);
    is->read(reinterpret_cast<char *>(buf), static_cast<std::streamsize>(len));
    if (is->bad()) return -1;
    return static_cast<ptrdiff_t>(is->gcount());
  };
  char *raw = nullptr;
  check(regc_blob_upload_callback(c.get(), repo.c_str(), read, &in, nullptr, &raw));
  return take(raw);
}

inline std::string put(const Client &c, const std::string &repo, const std::string &ref,
                       const std::string &body) {
  char *raw = nullptr;
  check(regc_manifest_put(c.get(), repo.c_str(), ref.c_str(),
                          "application/vnd.oci.image.manifest.v1+json",
                          reinterpret_cast<const uint8_t *>(body.data()), body.size(), &raw));
  return take(raw);
}

inline std::string copy(const Client &src, const std::string &src_repo, const std::string &ref,
                        const Client &dst, const std::string &dst_repo) {
  char *raw = nullptr;
  check(regc_copy(src.get(), src_repo.c_str(), ref.c_str(), dst.get(), dst_repo.c_str(), nullptr,
                  nullptr, true, 0, nullptr, nullptr, &raw));
  return take(raw);
}

inline std::string resolve(const Client &c, const std::string &repo, const std::string &ref) {
  char *raw = nullptr;
  check(regc_resolve_digest(c.get(), repo.c_str(), ref.c_str(), &raw));
  return take(raw);
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

    // The write path, on the empty registry.
    const char *write_url = std::getenv("REGC_TEST_WRITE_URL");
    if (write_url == nullptr) {
      std::cerr << "FATAL: REGC_TEST_WRITE_URL is not set\n";
      return 2;
    }
    regc::Client w = regc::connect(write_url);
    std::string config = R"({"architecture":"amd64","os":"linux"})";
    std::string config_digest = regc::upload(w, "cpp/app", config);
    std::istringstream layer_stream(std::string(100000, 'L'));
    std::string layer_digest = regc::upload(w, "cpp/app", layer_stream);
    EXPECT(config_digest.rfind("sha256:", 0) == 0 && layer_digest.rfind("sha256:", 0) == 0);
    std::ostringstream manifest_json;
    manifest_json << R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
         << R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")"
         << config_digest << R"(","size":)" << config.size() << "},"
         << R"("layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")"
         << layer_digest << R"(","size":100000}]})";
    std::string pushed = regc::put(w, "cpp/app", "v1", manifest_json.str());
    regc::Manifest back = regc::manifest(w, "cpp/app", "v1");
    EXPECT(pushed == regc_manifest_digest(back.get()));
    char *tagged = nullptr;
    regc::check(regc_tag(w.get(), "cpp/app", "v1", "stable", &tagged));
    EXPECT(regc::take(tagged) == pushed);
    char *json = nullptr;
    regc::check(regc_referrers(w.get(), "cpp/app", pushed.c_str(), nullptr, &json));
    EXPECT(regc::take(json) == R"({"manifests":[],"from_tag_schema":true})");
    char *deleted = nullptr;
    regc::check(regc_manifest_delete(w.get(), "cpp/app", "stable", &deleted));
    EXPECT(regc::take(deleted) == pushed);
    try {
      regc::manifest(w, "cpp/app", "v1");
      EXPECT(false);
    } catch (const regc::Error &e) {
      EXPECT(e.status == REGC_ERR_NOT_FOUND);
    }
    // A stream that fails mid-way: an I/O error, no crash.
    struct Broken : std::streambuf {
      int_type underflow() override { throw std::ios_base::failure("broken"); }
    } broken;
    std::istream bad(&broken);
    try {
      regc::upload(w, "cpp/app", bad);
      EXPECT(false);
    } catch (const regc::Error &e) {
      EXPECT(e.status == REGC_ERR_IO);
    }
    // Every platform of an index from the seed: the same digest here.
    std::string copied = regc::copy(client, "multi/oci", "latest", w, "cpp/multi");
    EXPECT(copied == regc::resolve(client, "multi/oci", "latest"));
    EXPECT(copied == regc::resolve(w, "cpp/multi", "latest"));
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
