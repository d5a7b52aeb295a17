//go:build !linux

package control

import "context"

// netChanges: off Linux the watch relies on its timer.
func netChanges(ctx context.Context, logf func(string, ...any)) <-chan struct{} { return nil }
