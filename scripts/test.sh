#!/bin/sh
# The whole check: types, lint/format, then every test. Run through ./vouchw test.
set -e
echo "== tsc --noEmit" >&2
npx --no-install tsc --noEmit -p .
echo "== biome check" >&2
npx --no-install biome check .
echo "== node --test" >&2
exec node --test --test-concurrency=2 --test-timeout=300000 "$@" 'src/**/*.test.ts' 'test/**/*.test.ts'
