//go:build !windows

package main

// platformMain has no special entry points outside Windows.
func platformMain(args []string) (handled bool, exitCode int) { return false, 0 }
