package main

import "syscall"

// simsProcAttr makes the simulators' process die with the demo's: SIGKILL
// when its parent ends, even by SIGKILL (the kernel sends it when the thread
// that started the child ends; Go ends a thread only when a goroutine locked
// to it exits, and runDemo's is not), besides the stdin EOF. It also puts
// the child in its own process group, so that a Ctrl-C in the terminal
// reaches the demo only, which then closes the child's stdin.
func simsProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
