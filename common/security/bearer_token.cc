#include "common/security/bearer_token.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace sluice::security {
namespace {

// RFC 6750 b64token: 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
bool IsBearerTokenSyntax(absl::string_view token) {
  size_t i = 0;
  while (i < token.size() &&
         (absl::ascii_isalnum(token[i]) ||
          absl::string_view("-._~+/").find(token[i]) != absl::string_view::npos)) {
    ++i;
  }
  if (i == 0) return false;
  while (i < token.size() && token[i] == '=') ++i;
  return i == token.size();
}

}  // namespace

bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  unsigned char da[SHA256_DIGEST_LENGTH];
  unsigned char db[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(a.data()), a.size(), da);
  SHA256(reinterpret_cast<const unsigned char*>(b.data()), b.size(), db);
  return CRYPTO_memcmp(da, db, SHA256_DIGEST_LENGTH) == 0;
}

absl::StatusOr<BearerToken> BearerToken::FromString(absl::string_view token) {
  if (!IsBearerTokenSyntax(token)) {
    return absl::InvalidArgumentError(
        "the token is empty or has characters a bearer token cannot have (allowed: letters, "
        "digits, -._~+/ and trailing =)");
  }
  return BearerToken(std::string(token));
}

absl::StatusOr<BearerToken> BearerToken::ReadFile(const std::string& path, absl::string_view name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " ", path, ": cannot read (", std::strerror(errno), ")"));
  }
  std::stringstream content;
  content << in.rdbuf();
  const std::string text = content.str();
  const absl::string_view token = absl::StripAsciiWhitespace(text);
  if (token.empty()) return absl::InvalidArgumentError(absl::StrCat(name, " ", path, ": empty"));
  absl::StatusOr<BearerToken> parsed = FromString(token);
  if (!parsed.ok()) {
    // Never echo the content: it is (almost) the secret.
    return absl::InvalidArgumentError(
        absl::StrCat(name, " ", path, ": ", parsed.status().message()));
  }
  return parsed;
}

bool BearerToken::MatchesAuthorization(absl::string_view authorization) const {
  constexpr absl::string_view kScheme = "bearer ";
  if (authorization.size() < kScheme.size() ||
      !absl::EqualsIgnoreCase(authorization.substr(0, kScheme.size()), kScheme)) {
    // Still hash once so a missing header costs about as long as a wrong one.
    ConstantTimeEquals(authorization, token_);
    return false;
  }
  return ConstantTimeEquals(absl::StripAsciiWhitespace(authorization.substr(kScheme.size())),
                            token_);
}

}  // namespace sluice::security
