#!/bin/sh
# Run the engine suites (podman, containerd) against the built husk; make
# check calls this. HUSK_ENGINES_FILTER=podman.bats runs one suite. They
# skip, saying why, when the engines are not installed.
here=$(cd "$(dirname "$0")" && pwd)
: "${HUSK_BUILDDIR:=$(cd "$here/../.." && pwd)}"
export HUSK_BUILDDIR
if ! command -v bats >/dev/null 2>&1; then
	echo "bats is not installed (apt-get install bats)"
	exit 1
fi
suites=${HUSK_ENGINES_FILTER:-"$here"/*.bats}
# shellcheck disable=SC2086
exec bats --tap $suites
