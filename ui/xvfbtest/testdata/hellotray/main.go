// Command hellotray is the benchmark's floor for a Fyne app with a tray
// item: a window with one label and a tray menu, nothing else. With
// --tray it starts with only the tray item, as wgpunch --tray does.
package main

import (
	"os"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("io.github.wgpunch.hellotray")
	w := a.NewWindow("Hello tray")
	w.SetContent(widget.NewLabel("Hello, world"))
	w.Resize(fyne.NewSize(900, 600))
	if d, ok := a.(desktop.App); ok {
		d.SetSystemTrayMenu(fyne.NewMenu("Hello", fyne.NewMenuItem("Show", w.Show)))
		w.SetCloseIntercept(w.Hide)
	}
	if len(os.Args) < 2 || os.Args[1] != "--tray" {
		w.Show()
	}
	a.Run()
}
