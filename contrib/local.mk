# The set-up, test and demo scripts: .ci/run calls check.sh, so a tarball
# needs them to be tested the way CI tests a clone.
EXTRA_DIST += contrib/check.sh contrib/demo.sh contrib/deps.sh contrib/test-summary.sh
# Engine configuration samples (tests/engines runs podman and containerd
# with them)
EXTRA_DIST += contrib/engines
