package ui

import (
	"image/color"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

// fakeTimers stands in for time.AfterFunc: frames run when the test says.
type fakeTimers struct {
	pending []*fakeTimer
}

type fakeTimer struct {
	d       time.Duration
	f       func()
	stopped bool
}

func (ft *fakeTimers) after(d time.Duration, f func()) func() {
	t := &fakeTimer{d: d, f: f}
	ft.pending = append(ft.pending, t)
	return func() { t.stopped = true }
}

// live is the timers neither run nor stopped.
func (ft *fakeTimers) live() []*fakeTimer {
	var l []*fakeTimer
	for _, t := range ft.pending {
		if !t.stopped {
			l = append(l, t)
		}
	}
	return l
}

// fire runs the pending timers (stopped ones too, as a real timer that
// already fired may) and returns how long they waited.
func (ft *fakeTimers) fire() time.Duration {
	p := ft.pending
	ft.pending = nil
	var d time.Duration
	for _, t := range p {
		t.f()
		d = max(d, t.d)
	}
	return d
}

// A packet arriving starts exactly one pulse: pulseFrames frames over
// pulseLength, lighter first and the dot's own colour last, then nothing
// is scheduled; while nothing arrives nothing is drawn or scheduled.
func TestPulseAnimatesOncePerPacket(t *testing.T) {
	test.NewTempApp(t)
	ft := &fakeTimers{}
	i := NewIndicator()
	i.after = ft.after
	a := t0
	i.Set("connected", &a) // first sight: no pulse
	base := i.dot.FillColor
	for s := 0; s < 10; s++ { // reports with nothing new, one a second
		i.Set("connected", &a)
	}
	if i.Pulses != 0 || i.Frames != 0 || len(ft.pending) != 0 || i.Animating() {
		t.Fatalf("nothing arrived: %d pulses, %d frames, %d timers, animating %v", i.Pulses, i.Frames, len(ft.pending), i.Animating())
	}

	b := a.Add(5 * time.Second) // a keepalive
	i.Set("connected", &b)
	i.Set("connected", &b) // the next report, same packet
	if i.Pulses != 1 || !i.Animating() {
		t.Fatalf("one packet: %d pulses, animating %v; want 1, true", i.Pulses, i.Animating())
	}
	first := i.dot.FillColor
	if first == base || !lighterThan(first, base) {
		t.Errorf("first frame %v is not lighter than the dot's colour %v", first, base)
	}
	var took time.Duration
	prev := first
	for len(ft.pending) > 0 {
		took += ft.fire()
		if c := i.dot.FillColor; c != base && !lighterThan(prev, c) {
			t.Errorf("frame %d: %v does not fade from %v", i.Frames, c, prev)
		}
		prev = i.dot.FillColor
		if i.Frames > pulseFrames {
			t.Fatalf("still animating after %d frames", i.Frames)
		}
	}
	if i.Frames != pulseFrames || took != pulseLength {
		t.Errorf("the pulse drew %d frames over %v; want %d over %v", i.Frames, took, pulseFrames, pulseLength)
	}
	if i.dot.FillColor != base || i.Animating() {
		t.Errorf("after the pulse: colour %v (want %v), animating %v", i.dot.FillColor, base, i.Animating())
	}
	for s := 0; s < 10; s++ {
		i.Set("connected", &b)
	}
	if i.Pulses != 1 || i.Frames != pulseFrames || len(ft.pending) != 0 {
		t.Errorf("idle after the pulse: %d pulses, %d frames, %d timers", i.Pulses, i.Frames, len(ft.pending))
	}
}

// A packet during a pulse starts it over: one pulse at a time, and the
// overtaken one draws nothing more.
func TestPulseRestarts(t *testing.T) {
	test.NewTempApp(t)
	ft := &fakeTimers{}
	i := NewIndicator()
	i.after = ft.after
	a, b, c := t0, t0.Add(time.Second), t0.Add(2*time.Second)
	i.Set("connected", &a)
	i.Set("connected", &b)
	i.Set("connected", &c)
	if got := len(ft.live()); got != 1 {
		t.Fatalf("two packets in a row: %d frames pending, want 1", got)
	}
	for len(ft.pending) > 0 {
		ft.fire()
	}
	if i.Pulses != 2 || i.Frames != 1+pulseFrames || i.Animating() {
		t.Errorf("%d pulses, %d frames, animating %v; want 2, %d, false", i.Pulses, i.Frames, i.Animating(), 1+pulseFrames)
	}
	// A state change mid-pulse ends on the new state's colour.
	d := t0.Add(3 * time.Second)
	i.Set("connected", &d)
	i.Set(control.State("stale"), &d)
	for len(ft.pending) > 0 {
		ft.fire()
	}
	tone, _ := StateWords("stale")
	if i.dot.FillColor != color.Color(toneColor(tone)) {
		t.Errorf("after a pulse into stale the dot is %v, want %v", i.dot.FillColor, toneColor(tone))
	}
}

// lighterThan reports whether a is at least as light as b in every
// channel and lighter in one.
func lighterThan(a, b color.Color) bool {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	return ar >= br && ag >= bg && ab >= bb && (ar > br || ag > bg || ab > bb)
}
