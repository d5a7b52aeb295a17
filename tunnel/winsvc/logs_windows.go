package winsvc

import (
	"io"

	"golang.zx2c4.com/wireguard/windows/ringlogger"
)

// DumpLog writes the tunnel services' ring log (Layout.LogPath) to w as
// text, one time-stamped line each, with WireGuard's own reader; with
// follow it goes on printing new lines until w fails.
func DumpLog(w io.Writer, follow bool) error {
	l, err := DefaultLayout()
	if err != nil {
		return err
	}
	return LogError(l.LogPath(), ringlogger.DumpTo(l.LogPath(), w, follow))
}
