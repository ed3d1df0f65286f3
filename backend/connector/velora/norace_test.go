//go:build !race

package velora

const raceEnabled = false
