//go:build !linux

package main

import "syscall"

// simsProcAttr is nil here: the simulators' process ends when its stdin
// reaches EOF, which the demo's end (even a crash) brings about.
func simsProcAttr() *syscall.SysProcAttr { return nil }
