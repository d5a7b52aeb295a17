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

// Indicator is a peer's live dot with its state in words. The dot pulses
// when LastReceive moves (a keepalive or data arrived).
type Indicator struct {
	widget.BaseWidget

	dot   *canvas.Circle
	words *widget.Label

	state  control.State
	lastRx time.Time
	seen   bool
	beat   bool // the dot shows the lighter colour of the last pulse
	// Pulses counts pulses, for tests.
	Pulses int
	// animate is false in tests so golden files stay stable.
	animate bool
}

// NewIndicator returns an indicator showing "Off".
func NewIndicator() *Indicator {
	i := &Indicator{dot: canvas.NewCircle(toneColor(ToneGrey)), words: widget.NewLabel("Off"), animate: true}
	i.ExtendBaseWidget(i)
	return i
}

// Set shows a state; a changed lastReceive after the first call pulses.
func (i *Indicator) Set(state control.State, lastReceive *time.Time) {
	tone, words := StateWords(state)
	if state != i.state {
		i.state = state
		i.beat = false
		i.dot.FillColor = toneColor(tone)
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

func (i *Indicator) pulse() {
	i.Pulses++
	if !i.animate {
		return
	}
	// One frame per pulse: the dot turns lighter, or back, each time a
	// packet arrives, with no timer to undo it. A blink (light, then back
	// 250 ms later) cost two redraws of the whole window per keepalive,
	// which in software OpenGL was most of the window's idle CPU (issue 14).
	i.beat = !i.beat
	i.dot.FillColor = i.color()
	i.dot.Refresh()
}

// color is the dot's colour: the state's tone, lighter on every other beat.
func (i *Indicator) color() color.Color {
	tone, _ := StateWords(i.state)
	c := toneColor(tone)
	if i.beat {
		c = lighter(c)
	}
	return c
}

// lighter mixes c halfway to white.
func lighter(c color.NRGBA) color.NRGBA {
	mix := func(v uint8) uint8 { return uint8((int(v) + 0xff) / 2) }
	return color.NRGBA{R: mix(c.R), G: mix(c.G), B: mix(c.B), A: c.A}
}

// CreateRenderer lays out the dot and the words.
func (i *Indicator) CreateRenderer() fyne.WidgetRenderer {
	dot := container.NewGridWrap(fyne.NewSize(14, 14), i.dot)
	return widget.NewSimpleRenderer(container.NewHBox(container.NewCenter(dot), i.words))
}
