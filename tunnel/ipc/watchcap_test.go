package ipc

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	. "github.com/wgpunch/wgpunch/tunnel/control"
	. "github.com/wgpunch/wgpunch/tunnel/control/controltest"
)

// TestWatchCaps: concurrent watch streams are capped per user and in
// total; the one over a cap gets 429, which the Client turns into ErrBusy
// with a message saying what to do; closing a stream frees its slot.
func TestWatchCaps(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     ServerOptions
		open     int
		wantText string
	}{
		{"per user", ServerOptions{MaxWatchPerUser: 2, MaxWatch: 10}, 2, "this user already has 2 status streams"},
		{"total", ServerOptions{MaxWatchPerUser: 10, MaxWatch: 3}, 3, "the daemon already serves 3 status streams"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := NewEnv(t, true)
			sock := serve(t, a, t.TempDir(), tc.opts)
			cl, err := Dial(sock)
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			var cancels []context.CancelFunc
			defer func() {
				for _, c := range cancels {
					c()
				}
			}()
			for i := range tc.open {
				wctx, cancel := context.WithCancel(ctx)
				cancels = append(cancels, cancel)
				ch, err := cl.Watch(wctx)
				if err != nil {
					t.Fatalf("watch %d of %d: %v", i+1, tc.open, err)
				}
				select {
				case <-ch:
				case <-time.After(5 * time.Second):
					t.Fatalf("watch %d: no report", i+1)
				}
			}
			_, err = cl.Watch(ctx)
			if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), tc.wantText) || !strings.Contains(err.Error(), "then try again") {
				t.Fatalf("watch over the cap: %v, want ErrBusy %q", err, tc.wantText)
			}
			// The raw status is 429.
			hc := cl.hc
			resp, err := hc.Get("http://wgpunch/v1/watch")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests {
				t.Errorf("status %d, want 429", resp.StatusCode)
			}
			// Other calls still work.
			if _, err := cl.List(ctx); err != nil {
				t.Errorf("list while watch is capped: %v", err)
			}
			// Closing one stream frees its slot (once the server sees it go).
			cancels[0]()
			deadline := time.Now().Add(5 * time.Second)
			for {
				wctx, cancel := context.WithCancel(ctx)
				cancels = append(cancels, cancel)
				_, err := cl.Watch(wctx)
				if err == nil {
					break
				}
				cancel()
				if !errors.Is(err, ErrBusy) || time.Now().After(deadline) {
					t.Fatalf("watch after closing one: %v", err)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}
