// Package memtrim lets a long-running, mostly idle process give back the
// pages of its program files that it mapped while starting.
//
// WG Punch's tray process is the same binary as the window and the
// daemon: its packages' initialisers run code and read data all over the
// binary's 20 MiB of text and read-only data, and on kernels whose page
// cache holds large folios (ext4 and others since Linux 6.x) the kernel
// maps those in 2 MiB pieces, so nearly all of it counted in the process's
// RSS (issue 14: 22 of its 30 MiB). The pages stay in the page cache,
// shared with the window process; only this process's mappings of them go,
// and what it runs later is mapped again, in the same large pieces: after
// the drop the idle tray maps about 5 MiB less (docs/benchmarks.md).
package memtrim

// Stats says what DropStartupMappings did.
type Stats struct {
	Mappings int   // read-only file mappings dropped
	Bytes    int64 // their resident bytes before
}
