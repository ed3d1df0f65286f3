//go:build race

package velora

// raceEnabled is true when the tests run with the race detector, which
// slows decoding about tenfold.
const raceEnabled = true
