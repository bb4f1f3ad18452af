#!/usr/bin/env bash
# The API fuzzer as a CI step (issue 12): schemathesis against the app in full-stack mode on the
# local services. Needs the services running and `source .services/env`; installs schemathesis
# (pinned) into a virtualenv under ~/.cache (outside the repository, which lint and format scan)
# unless SCHEMATHESIS or a schemathesis of that version on PATH is given. Exits non-zero
# when the fuzzer finds a failure. Bounds: FUZZ_MAX_EXAMPLES, FUZZ_MAX_TIME_SECONDS (scripts/fuzz.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5

if [ -z "${SCHEMATHESIS:-}" ]; then
  if command -v schemathesis >/dev/null 2>&1 &&
    schemathesis --version | grep -q "version ${SCHEMATHESIS_VERSION}$"; then
    SCHEMATHESIS=$(command -v schemathesis)
  else
    venv="${XDG_CACHE_HOME:-$HOME/.cache}/zero-to-millions/schemathesis-${SCHEMATHESIS_VERSION}"
    if [ ! -x "$venv/bin/schemathesis" ]; then
      python3 -m venv "$venv"
      "$venv/bin/pip" install --quiet "schemathesis==${SCHEMATHESIS_VERSION}"
    fi
    SCHEMATHESIS=$venv/bin/schemathesis
  fi
fi
export SCHEMATHESIS

exec node --import tsx scripts/fuzz.ts
