// Package bench holds the end-to-end performance benchmarks of
// TARGETS.md that span several packages: P2 (our full pipeline against the
// official Node socket.io-client counting the same Velora stream) and P4
// (backend memory over 100 channels of traffic). They are benchmarks only:
// no wall-clock assertions; `make bench` prints each figure against its
// same-run baseline (build/ci/benchreport). See docs/decisions/performance.md.
package bench
