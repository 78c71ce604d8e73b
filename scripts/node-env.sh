# shellcheck shell=sh
# Sourced by ./vouchw and bin/vouch. Finds a Node.js that can run vouch
# (>= 22.22, type stripping on by default) and puts it first on PATH. When the
# system node is older, fetches the official Node.js 24 binary package
# (node-linux-<arch>, published by the Node.js project to the npm registry)
# into .node/, once, and checks it against the integrity pinned below — the
# way gradlew fetches Gradle.

VOUCH_NODE_VERSION=24.21.0
VOUCH_ROOT=${VOUCH_ROOT:-$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)}

vouch_node_ok() {
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=22)?0:1)' 2>/dev/null
}

vouch_pinned_integrity() {
  case "$1" in
    linux-x64) echo 'sha512-3nULszZ5X0fciYpG0t6TrdApJzAn8+FlINP6OiMX7V8HrvpATPN936U1LlReOJriLRa4e8yEqQBYCnLyPNAs7Q==' ;;
    linux-arm64) echo 'sha512-FpJRPEz2OvvTLfjIOlNGFY9JLPMKgl5m+d4oGYBLg24kJ1mmvN1Zl/HPJgF4HDaJ51ISev1l1cRZ/DM+keXW5g==' ;;
    *) echo '' ;;
  esac
}

vouch_fetch_node() {
  os=$(uname -s | tr '[:upper:]' '[:lower:]')
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "vouch: no Node.js binary package for $(uname -m); install Node.js 24 yourself" >&2; return 1 ;;
  esac
  platform="$os-$arch"
  want=$(vouch_pinned_integrity "$platform")
  if [ -z "$want" ]; then
    echo "vouch: system node is older than 22.22 and no pinned Node.js package exists for $platform; install Node.js 24" >&2
    return 1
  fi
  command -v npm >/dev/null 2>&1 || { echo "vouch: npm is needed to fetch Node.js $VOUCH_NODE_VERSION" >&2; return 1; }
  echo "vouch: system node is too old; fetching Node.js $VOUCH_NODE_VERSION ($platform) from the npm registry" >&2
  tmp=$(mktemp -d "$VOUCH_ROOT/.node-fetch.XXXXXX") || return 1
  (
    cd "$tmp" &&
      npm pack --silent "node-$platform@$VOUCH_NODE_VERSION" >/dev/null &&
      got="sha512-$(openssl dgst -sha512 -binary "node-$platform-$VOUCH_NODE_VERSION.tgz" | openssl base64 -A)" &&
      if [ "$got" != "$want" ]; then
        echo "vouch: integrity mismatch for node-$platform@$VOUCH_NODE_VERSION: got $got" >&2
        exit 1
      fi &&
      tar xzf "node-$platform-$VOUCH_NODE_VERSION.tgz" package/bin/node &&
      mkdir -p bin && mv package/bin/node bin/node
  ) || { rm -rf "$tmp"; return 1; }
  mkdir -p "$VOUCH_ROOT/.node"
  rm -rf "$VOUCH_ROOT/.node/$VOUCH_NODE_VERSION"
  # rename is atomic: a concurrent or killed fetch never leaves a half binary.
  mv "$tmp" "$VOUCH_ROOT/.node/$VOUCH_NODE_VERSION" 2>/dev/null || rm -rf "$tmp"
}

vouch_use_node() {
  if [ -n "${VOUCH_NODE:-}" ] && vouch_node_ok "$VOUCH_NODE"; then
    :
  elif command -v node >/dev/null 2>&1 && vouch_node_ok node; then
    VOUCH_NODE=$(command -v node)
  else
    VOUCH_NODE="$VOUCH_ROOT/.node/$VOUCH_NODE_VERSION/bin/node"
    if ! vouch_node_ok "$VOUCH_NODE"; then
      vouch_fetch_node || return 1
    fi
  fi
  PATH="$(dirname -- "$VOUCH_NODE"):$PATH"
  export PATH VOUCH_NODE
}
