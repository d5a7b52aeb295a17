// Package version holds the build's version, set at link time:
//
//	go build -ldflags "-X github.com/wgpunch/wgpunch/internal/version.Version=1.2.3 \
//	    -X github.com/wgpunch/wgpunch/internal/version.Commit=abc1234"
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is the release (e.g. "0.1.0"); "0.1.0-dev" when not set by the linker.
var Version = "0.1.0-dev"

// Commit is the source revision; when not set by the linker it comes from
// the Go build info (VCS stamp) if there is one.
var Commit = ""

// String is the one-line version text `wgpunch --version` prints.
func String() string {
	c := Commit
	if c == "" {
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 7 {
					c = s.Value[:7]
				}
			}
		}
	}
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("wgpunch %s (commit %s, %s, %s/%s)", Version, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
