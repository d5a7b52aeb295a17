//go:build !windows

package store

// platformProtector: none off Windows; the 0700 directory protects the
// tunnel files.
func platformProtector() Protector { return nil }
