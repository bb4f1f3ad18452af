#!/usr/bin/env bash
# The API fuzzer as a CI step (issue 12): schemathesis against the app in full-stack mode on the
# local services. Needs the services running and `source .services/env`; installs schemathesis
# (pinned) into .venv-fuzz unless SCHEMATHESIS or a schemathesis on PATH is given. Exits non-zero
# when the fuzzer finds a failure. Bounds: FUZZ_MAX_EXAMPLES, FUZZ_MAX_TIME_SECONDS (scripts/fuzz.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5

if [ -z "${SCHEMATHESIS:-}" ]; then
  if command -v schemathesis >/dev/null 2>&1 &&
    schemathesis --version | grep -q "version ${SCHEMATHESIS_VERSION}$"; then
    SCHEMATHESIS=$(command -v schemathesis)
  else
    if [ ! -x .venv-fuzz/bin/schemathesis ]; then
      python3 -m venv .venv-fuzz
      .venv-fuzz/bin/pip install --quiet "schemathesis==${SCHEMATHESIS_VERSION}"
    fi
    SCHEMATHESIS=$PWD/.venv-fuzz/bin/schemathesis
  fi
fi
export SCHEMATHESIS

exec node --import tsx scripts/fuzz.ts
