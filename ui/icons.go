package ui

import (
	"bytes"
	"image"
	"image/color"
	"image/png"

	"fyne.io/fyne/v2"
)

// Icons are the app and tray images. cmd/trayapp fills them from the assets
// package; zero fields fall back to simple generated dots.
type Icons struct {
	App, Connected, Connecting, Problem, Off fyne.Resource
}

func (ic Icons) withDefaults() Icons {
	if ic.App == nil {
		ic.App = dotIcon("app-icon.png", toneColor(ToneGreen), true)
	}
	if ic.Connected == nil {
		ic.Connected = dotIcon("tray-connected.png", toneColor(ToneGreen), false)
	}
	if ic.Connecting == nil {
		ic.Connecting = dotIcon("tray-connecting.png", toneColor(ToneAmber), false)
	}
	if ic.Problem == nil {
		ic.Problem = dotIcon("tray-problem.png", toneColor(ToneRed), false)
	}
	if ic.Off == nil {
		ic.Off = dotIcon("tray-off.png", toneColor(ToneGrey), false)
	}
	return ic
}

// ForOverall is the tray icon for a state.
func (ic Icons) ForOverall(o Overall) fyne.Resource {
	switch o {
	case OverallConnected:
		return ic.Connected
	case OverallConnecting:
		return ic.Connecting
	case OverallProblem:
		return ic.Problem
	}
	return ic.Off
}

// dotIcon draws a 64x64 filled circle (with a ring for the app icon).
func dotIcon(name string, c color.NRGBA, ring bool) fyne.Resource {
	const n = 64
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			dx, dy := float64(x)-31.5, float64(y)-31.5
			d := dx*dx + dy*dy
			switch {
			case d <= 22*22:
				img.SetNRGBA(x, y, c)
			case ring && d <= 30*30 && d >= 26*26:
				img.SetNRGBA(x, y, c)
			}
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return fyne.NewStaticResource(name, b.Bytes())
}

func toneColor(t Tone) color.NRGBA {
	switch t {
	case ToneGreen:
		return color.NRGBA{0x2e, 0x9d, 0x48, 0xff}
	case ToneAmber:
		return color.NRGBA{0xe8, 0xa3, 0x17, 0xff}
	case ToneRed:
		return color.NRGBA{0xd3, 0x2f, 0x2f, 0xff}
	}
	return color.NRGBA{0x9e, 0x9e, 0x9e, 0xff}
}

// toneBackground is a light tint for banners.
func toneBackground(t Tone) color.NRGBA {
	c := toneColor(t)
	c.A = 0x40
	return c
}
