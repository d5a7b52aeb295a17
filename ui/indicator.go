package ui

import (
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

// The pulse: when a packet arrives the dot turns lighter and goes back to
// its colour in pulseFrames frames over pulseLength (with 2: lighter at
// once, its own colour 400 ms later), then nothing is drawn until the next
// packet. Each frame redraws the whole window, in software OpenGL about
// 10 ms of CPU, so the frames are as few as a pulse can have: see
// docs/benchmarks.md for what each one costs.
const (
	pulseFrames = 2
	pulseLength = 400 * time.Millisecond
)

// Indicator is a peer's live dot with its state in words. The dot pulses
// once when LastReceive moves (a keepalive or data arrived).
type Indicator struct {
	widget.BaseWidget

	dot   *canvas.Circle
	words *widget.Label

	state  control.State
	lastRx time.Time
	seen   bool

	// Pulses counts pulses started (one per packet seen), Frames the
	// pulse frames drawn, for tests.
	Pulses, Frames int
	frame          int    // the pulse frame shown, 0 at rest
	gen            int    // which pulse the pending frame belongs to
	stop           func() // cancels the pending frame; nil at rest
	// after runs f on the Fyne goroutine after d and returns a function
	// that cancels it (a fake in tests).
	after func(d time.Duration, f func()) (stop func())
	// animate is false in golden tests so the files stay stable.
	animate bool
}

// NewIndicator returns an indicator showing "Off".
func NewIndicator() *Indicator {
	i := &Indicator{dot: canvas.NewCircle(toneColor(ToneGrey)), words: widget.NewLabel("Off"), animate: true, after: afterOnFyne}
	i.ExtendBaseWidget(i)
	return i
}

// afterOnFyne runs f on the Fyne goroutine after d.
func afterOnFyne(d time.Duration, f func()) func() {
	t := time.AfterFunc(d, func() { fyne.Do(f) })
	return func() { t.Stop() }
}

// Set shows a state; a changed lastReceive after the first call pulses.
func (i *Indicator) Set(state control.State, lastReceive *time.Time) {
	_, words := StateWords(state)
	if state != i.state {
		i.state = state
		i.dot.FillColor = i.color()
		i.dot.Refresh()
		i.words.SetText(words)
	}
	var rx time.Time
	if lastReceive != nil {
		rx = *lastReceive
	}
	if i.seen && !rx.Equal(i.lastRx) && !rx.IsZero() {
		i.pulse()
	}
	i.lastRx, i.seen = rx, true
}

// Animating reports whether a pulse is under way.
func (i *Indicator) Animating() bool { return i.stop != nil }

// pulse starts the pulse over from its lightest frame.
func (i *Indicator) pulse() {
	i.Pulses++
	if !i.animate {
		return
	}
	if i.stop != nil {
		i.stop()
		i.stop = nil
	}
	i.gen++
	i.show(1)
}

// show draws pulse frame k (1..pulseFrames) and schedules the next; the
// last frame is the dot's own colour and schedules nothing.
func (i *Indicator) show(k int) {
	i.frame = k % pulseFrames
	i.Frames++
	i.dot.FillColor = i.color()
	i.dot.Refresh()
	if i.frame == 0 {
		i.stop = nil
		return
	}
	gen := i.gen
	i.stop = i.after(pulseLength/(pulseFrames-1), func() {
		if gen == i.gen && i.stop != nil { // not overtaken by a newer pulse
			i.show(k + 1)
		}
	})
}

// color is the dot's colour: the state's tone, lighter early in a pulse.
func (i *Indicator) color() color.Color {
	tone, _ := StateWords(i.state)
	c := toneColor(tone)
	if i.frame == 0 {
		return c
	}
	// Frame 1 is halfway to white, the last one the tone itself.
	return towardWhite(c, float64(pulseFrames-i.frame)/float64(pulseFrames-1)/2)
}

// towardWhite mixes c with white, f of the way (0..1).
func towardWhite(c color.NRGBA, f float64) color.NRGBA {
	mix := func(v uint8) uint8 { return uint8(float64(v) + (0xff-float64(v))*f + 0.5) }
	return color.NRGBA{R: mix(c.R), G: mix(c.G), B: mix(c.B), A: c.A}
}

// CreateRenderer lays out the dot and the words.
func (i *Indicator) CreateRenderer() fyne.WidgetRenderer {
	dot := container.NewGridWrap(fyne.NewSize(14, 14), i.dot)
	return widget.NewSimpleRenderer(container.NewHBox(container.NewCenter(dot), i.words))
}
