#!/bin/sh
# Provision a fresh Debian/Ubuntu VM with envsetup: install it from the checkout into a
# venv (PEP 668 forbids a system-wide pip install), apply the recipes named in
# $ENVSETUP_APPLY, then verify them. Exits non-zero when a step or a check fails.
# The Vagrantfile runs this; CI runs the same commands.
#
#   ENVSETUP_SRC      the checkout (default: /vagrant)
#   ENVSETUP_APPLY    recipes, space-separated (default: ubuntu-java17)
#   ENVSETUP_ARGS     extra arguments for apply and verify, e.g. "--set headless=true"
#   ENVSETUP_VENV     where envsetup is installed (default: /opt/envsetup)
#   ENVSETUP_REPORTS  where JSON and JUnit reports go (default: $ENVSETUP_SRC/reports)
set -eu

SRC=${ENVSETUP_SRC:-/vagrant}
RECIPES=${ENVSETUP_APPLY:-ubuntu-java17}
ARGS=${ENVSETUP_ARGS:-}
VENV=${ENVSETUP_VENV:-/opt/envsetup}
REPORTS=${ENVSETUP_REPORTS:-$SRC/reports}
export DEBIAN_FRONTEND=noninteractive

if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    echo "==> installing python3-venv"
    apt-get update -qq
    apt-get install -y -qq python3-venv >/dev/null
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    python3 -m venv "$VENV"
fi
echo "==> installing envsetup from $SRC"
"$VENV/bin/pip" install -q --disable-pip-version-check "$SRC"

mkdir -p "$REPORTS"
echo "==> envsetup apply $RECIPES $ARGS"
# shellcheck disable=SC2086  # RECIPES and ARGS are word lists
"$VENV/bin/envsetup" apply $RECIPES $ARGS --junit "$REPORTS/apply-junit.xml" \
    --json > "$REPORTS/apply.json" || status=$?
"$VENV/bin/python" - "$REPORTS/apply.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
print(f"apply: ok={doc['ok']} changed={doc['changed']} " + " ".join(
    f"{k}={v}" for k, v in doc.get("summary", {}).items()))
PY
echo "==> envsetup verify $RECIPES $ARGS"
# shellcheck disable=SC2086
"$VENV/bin/envsetup" verify $RECIPES $ARGS --junit "$REPORTS/verify-junit.xml"
exit "${status:-0}"
