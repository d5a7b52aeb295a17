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
	// A blink rather than a 60 fps animation: two redraws per keepalive
	// keep the idle CPU low (the window may be drawn in software).
	i.dot.FillColor = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	i.dot.Refresh()
	time.AfterFunc(250*time.Millisecond, func() {
		fyne.Do(func() {
			tone, _ := StateWords(i.state)
			i.dot.FillColor = toneColor(tone)
			i.dot.Refresh()
		})
	})
}

// CreateRenderer lays out the dot and the words.
func (i *Indicator) CreateRenderer() fyne.WidgetRenderer {
	dot := container.NewGridWrap(fyne.NewSize(14, 14), i.dot)
	return widget.NewSimpleRenderer(container.NewHBox(container.NewCenter(dot), i.words))
}
