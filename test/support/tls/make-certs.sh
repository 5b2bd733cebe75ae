#!/usr/bin/env bash
# Makes the test PKI of the TLS tests (tls.nats.test.ts): a CA, a server certificate for 127.0.0.1 and localhost, and
# a client certificate, all signed by that CA and valid for 100 years. Kept in the repo so CI needs no openssl; run it
# again (from this directory) only to replace them.
set -euo pipefail
days=36500
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
  -subj '/CN=Tether test CA' -keyout ca-key.pem -out ca.pem
for who in server client; do
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=tether-test-$who" \
    -keyout "$who-key.pem" -out "$who.csr"
done
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > server.ext
printf 'extendedKeyUsage=clientAuth\n' > client.ext
for who in server client; do
  openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days "$days" \
    -extfile "$who.ext" -out "$who.pem"
done
rm -f ./*.csr ./*.ext ca.srl ca-key.pem
