#include "common/security/pem_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace sluice::security {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

std::string Describe(const PemFile& file) { return absl::StrCat(file.name, " ", file.path); }

// The last OpenSSL error as text ("" when none); clears the queue.
std::string OpenSslError() {
  unsigned long code = ERR_peek_last_error();
  std::string text;
  if (code != 0) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    text = buffer;
  }
  ERR_clear_error();
  return text;
}

absl::StatusOr<std::string> ReadFile(const PemFile& file) {
  std::ifstream in(file.path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(file), ": cannot read (", std::strerror(errno), ")"));
  }
  std::stringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return absl::InvalidArgumentError(absl::StrCat(Describe(file), ": cannot read"));
  }
  return content.str();
}

BioPtr Bio(const std::string& pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

absl::StatusOr<X509Ptr> FirstCertificate(const PemFile& file, const std::string& pem) {
  BioPtr bio = Bio(pem);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) {
    OpenSslError();
    return absl::InvalidArgumentError(absl::StrCat(
        Describe(file), ": not a PEM certificate (expected -----BEGIN CERTIFICATE-----)"));
  }
  return cert;
}

absl::StatusOr<KeyPtr> PrivateKey(const PemFile& file, const std::string& pem) {
  BioPtr bio = Bio(pem);
  // An empty passphrase callback: an encrypted key fails instead of prompting on the tty.
  auto no_passphrase = [](char*, int, int, void*) { return 0; };
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (key == nullptr) {
    OpenSslError();
    return absl::InvalidArgumentError(absl::StrCat(
        Describe(file),
        ": not an unencrypted PEM private key (expected -----BEGIN PRIVATE KEY-----)"));
  }
  return key;
}

}  // namespace

absl::StatusOr<PemMaterial> LoadPemMaterial(const PemFile& ca, const PemFile& cert,
                                            const PemFile& key) {
  if (cert.path.empty() != key.path.empty()) {
    const PemFile& given = cert.path.empty() ? key : cert;
    const PemFile& missing = cert.path.empty() ? cert : key;
    return absl::InvalidArgumentError(
        absl::StrCat(Describe(given), " is set but ", missing.name, " is not (both are needed)"));
  }
  PemMaterial out;
  if (!ca.path.empty()) {
    absl::StatusOr<std::string> pem = ReadFile(ca);
    if (!pem.ok()) return pem.status();
    absl::StatusOr<X509Ptr> first = FirstCertificate(ca, *pem);
    if (!first.ok()) return first.status();
    out.ca_pem = *std::move(pem);
  }
  if (!cert.path.empty()) {
    absl::StatusOr<std::string> cert_pem = ReadFile(cert);
    if (!cert_pem.ok()) return cert_pem.status();
    absl::StatusOr<std::string> key_pem = ReadFile(key);
    if (!key_pem.ok()) return key_pem.status();
    absl::StatusOr<X509Ptr> x509 = FirstCertificate(cert, *cert_pem);
    if (!x509.ok()) return x509.status();
    absl::StatusOr<KeyPtr> pkey = PrivateKey(key, *key_pem);
    if (!pkey.ok()) return pkey.status();
    if (X509_check_private_key(x509->get(), pkey->get()) != 1) {
      OpenSslError();
      return absl::InvalidArgumentError(
          absl::StrCat(Describe(cert), " does not match ", Describe(key),
                       " (the key is not this certificate's private key)"));
    }
    out.cert_pem = *std::move(cert_pem);
    out.key_pem = *std::move(key_pem);
  }
  return out;
}

}  // namespace sluice::security
