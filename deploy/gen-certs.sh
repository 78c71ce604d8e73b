#!/bin/sh
# Without cert-manager: makes a CA and a serving certificate for the webhook
# Service with openssl, stores them in the Secret vouch-webhook-tls and writes
# the CA into the webhook configuration's caBundle.
#   deploy/gen-certs.sh            (needs openssl and kubectl; run after kubectl apply)
# Re-run before the certificate expires (365 days); vouch serve reloads it.
set -eu
NS=vouch-system
SVC=vouch-webhook
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 730 \
  -keyout "$DIR/ca.key" -out "$DIR/ca.crt" -subj "/CN=vouch webhook CA" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -keyout "$DIR/tls.key" -out "$DIR/tls.csr" -subj "/CN=$SVC.$NS.svc" 2>/dev/null
printf 'subjectAltName=DNS:%s.%s.svc,DNS:%s.%s.svc.cluster.local\nextendedKeyUsage=serverAuth\n' \
  "$SVC" "$NS" "$SVC" "$NS" > "$DIR/ext.cnf"
openssl x509 -req -in "$DIR/tls.csr" -CA "$DIR/ca.crt" -CAkey "$DIR/ca.key" -CAcreateserial \
  -days 365 -extfile "$DIR/ext.cnf" -out "$DIR/tls.crt" 2>/dev/null
if [ "${1:-}" = "--out" ]; then
  cp "$DIR/ca.crt" "$DIR/tls.crt" "$DIR/tls.key" "$2"
  exit 0
fi
kubectl -n "$NS" create secret tls vouch-webhook-tls --cert="$DIR/tls.crt" --key="$DIR/tls.key" \
  --dry-run=client -o yaml | kubectl apply -f -
CA=$(base64 < "$DIR/ca.crt" | tr -d '\n')
kubectl patch validatingwebhookconfiguration vouch-admission --type=json \
  -p "[{\"op\":\"add\",\"path\":\"/webhooks/0/clientConfig/caBundle\",\"value\":\"$CA\"}]"
