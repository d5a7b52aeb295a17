package xvfbtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/wgpunch/wgpunch/internal/testutil"
)

// The GUI shows its state only in pixels, so these tests wait on what a
// user would see: a window whose frame has stopped changing, or has
// changed from an earlier one.

const (
	framePoll   = 150 * time.Millisecond
	settleFor   = 3 // alike frames in a row: settled
	settleLimit = 10 * time.Second
	// A focused entry's cursor fades in and out for ever (Fyne's cursor
	// animation): frames differing in fewer pixels than this are alike.
	// The cursor is a 2-pixel bar one line high; any text is more.
	cursorPixels = 64
)

// frame is the raw pixels (RGB, 8 bits) of window win ("root": the whole
// screen).
func (l *lab) frame(t testing.TB, win string) []byte {
	t.Helper()
	out, err := l.nsCmd(context.Background(), "import", "-window", win, "-depth", "8", "rgb:-").Output()
	if err != nil {
		t.Fatalf("grab window %s: %v", win, err)
	}
	return out
}

// diffPixels counts the pixels in which a and b differ; frames of other
// sizes differ everywhere.
func diffPixels(a, b []byte) int {
	if len(a) != len(b) {
		return max(len(a), len(b)) / 3
	}
	n := 0
	for i := 0; i+2 < len(a); i += 3 {
		if a[i] != b[i] || a[i+1] != b[i+1] || a[i+2] != b[i+2] {
			n++
		}
	}
	return n
}

// settle waits until win's frames have stayed alike for a few polls (a
// redraw, a step change or a check's spinner is over). A window still
// changing after limit is logged, not failed: what follows (a screenshot,
// a key) then sees the frame of that moment.
func (l *lab) settle(t testing.TB, win string, limit time.Duration) {
	t.Helper()
	last, alike := l.frame(t, win), 0
	if _, err := testutil.WaitFor(limit, framePoll, func() (bool, string) {
		f := l.frame(t, win)
		d := diffPixels(last, f)
		if d < cursorPixels {
			alike++
		} else {
			alike = 0
		}
		last = f
		return alike >= settleFor-1, fmt.Sprintf("window %s still changing (%d pixels between frames)", win, d)
	}); err != nil {
		t.Logf("%v", err)
	}
}

// changed waits until win's frame differs from from (the GUI noticed
// something asynchronously), then until it settles. No change within
// limit is logged: the GUI may have been quicker than from.
func (l *lab) changed(t testing.TB, win string, from []byte, limit time.Duration) {
	t.Helper()
	if _, err := testutil.WaitFor(limit, framePoll, func() (bool, string) {
		return diffPixels(from, l.frame(t, win)) >= cursorPixels, "window " + win + " unchanged"
	}); err != nil {
		t.Logf("%v", err)
	}
	l.settle(t, win, settleLimit)
}
