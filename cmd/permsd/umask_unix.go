//go:build unix

package main

import "syscall"

// privateUmask makes what the daemon creates private to its user (umask 077): the clone's
// files 0600 and its directories 0700, like the persisted bundle and the decision log.
func privateUmask() { syscall.Umask(0o077) }
