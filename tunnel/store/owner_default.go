//go:build !linux

package store

import "io/fs"

// checkOwner is only implemented on Linux.
func checkOwner(dir string, fi fs.FileInfo) error { return nil }
