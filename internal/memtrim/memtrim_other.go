//go:build !linux

package memtrim

// DropStartupMappings does nothing outside Linux.
func DropStartupMappings() (Stats, error) { return Stats{}, nil }
