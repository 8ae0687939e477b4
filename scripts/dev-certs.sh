#!/usr/bin/env bash
# dev-certs.sh DIR — development and test certificates for Sluice's TLS (docs/security.md).
#
# Writes into DIR (created if needed; files that exist are kept, so running it again is a
# no-op and a partial directory is completed):
#   ca.crt ca.key             the cluster's test CA
#   cluster.crt cluster.key   one certificate for the JobManager and every TaskManager, usable
#                             as server and as client (mutual TLS). SANs: sluice-cluster (for
#                             security.tls.server_name), localhost, 127.0.0.1,
#                             ::1, sluice-jobmanager, sluice-jobmanager.$NS,
#                             sluice-jobmanager.$NS.svc, sluice-jobmanager.$NS.svc.cluster.local,
#                             sluice-taskmanager(.$NS.svc.cluster.local), *.sluice-taskmanager
#                             .$NS.svc(.cluster.local) (TaskManager pods of a headless service),
#                             *.$NS.pod.cluster.local, plus $SLUICE_CERT_EXTRA_SANS
#                             (e.g. "DNS:sluice.example.com,IP:10.0.0.5")
#   cli.crt cli.key           a client-only certificate for the CLI (CN sluice-cli)
#   other-ca.crt other-ca.key another CA, and other.crt other.key (same names, signed by it):
#                             a certificate the cluster must refuse (negative tests)
#   token                     a random bearer token (32 bytes, hex) for security.auth.token_file
# NS is $SLUICE_NAMESPACE (default: default). Keys are EC P-256, mode 0600; certificates are
# valid for 825 days. For development and tests only: in production use your own PKI
# (e.g. cert-manager) and keep ca.key out of the cluster.
set -euo pipefail

if [ $# -ne 1 ] || [ "$1" = "-h" ] || [ "$1" = "--help" ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  exit 2
fi
command -v openssl >/dev/null || { echo "dev-certs.sh: openssl is not installed (apt-get install openssl)" >&2; exit 2; }

DIR=$1
NS=${SLUICE_NAMESPACE:-default}
DAYS=825
mkdir -p "$DIR"
umask 077

SANS="DNS:localhost,IP:127.0.0.1,IP:::1,DNS:sluice-cluster"
SANS+=",DNS:sluice-jobmanager,DNS:sluice-jobmanager.$NS,DNS:sluice-jobmanager.$NS.svc"
SANS+=",DNS:sluice-jobmanager.$NS.svc.cluster.local"
SANS+=",DNS:sluice-taskmanager,DNS:sluice-taskmanager.$NS.svc.cluster.local"
SANS+=",DNS:*.sluice-taskmanager.$NS.svc,DNS:*.sluice-taskmanager.$NS.svc.cluster.local"
SANS+=",DNS:*.$NS.pod.cluster.local"
if [ -n "${SLUICE_CERT_EXTRA_SANS:-}" ]; then SANS+=",$SLUICE_CERT_EXTRA_SANS"; fi

# ca NAME CN: a self-signed CA NAME.crt / NAME.key.
ca() {
  local name=$1 cn=$2
  [ -s "$DIR/$name.crt" ] && [ -s "$DIR/$name.key" ] && return 0
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$DIR/$name.key" -out "$DIR/$name.crt" -days "$DAYS" -subj "/O=Sluice dev/CN=$cn" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

# leaf NAME CA CN USAGE [SANS]: NAME.crt / NAME.key signed by CA.
leaf() {
  local name=$1 ca=$2 cn=$3 usage=$4 sans=${5:-}
  [ -s "$DIR/$name.crt" ] && [ -s "$DIR/$name.key" ] && return 0
  local ext
  ext=$(mktemp)
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    if [ -n "$sans" ]; then echo "subjectAltName=$sans"; fi
  } > "$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$DIR/$name.key" -out "$DIR/$name.csr" -subj "/O=Sluice dev/CN=$cn" 2>/dev/null
  openssl x509 -req -in "$DIR/$name.csr" -CA "$DIR/$ca.crt" -CAkey "$DIR/$ca.key" \
    -CAcreateserial -out "$DIR/$name.crt" -days "$DAYS" -extfile "$ext" 2>/dev/null
  rm -f "$DIR/$name.csr" "$ext"
}

ca ca "Sluice dev CA"
leaf cluster ca sluice-cluster serverAuth,clientAuth "$SANS"
leaf cli ca sluice-cli clientAuth
ca other-ca "Other CA (not trusted by the cluster)"
leaf other other-ca sluice-cluster serverAuth,clientAuth "$SANS"
if [ ! -s "$DIR/token" ]; then openssl rand -hex 32 > "$DIR/token"; fi
chmod 644 "$DIR"/*.crt
echo "dev-certs.sh: certificates in $DIR (CA ca.crt; cluster.crt/key; cli.crt/key; other-ca.crt, other.crt/key; token)"
