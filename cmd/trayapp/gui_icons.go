//go:build !nogui

package main

import (
	"fyne.io/fyne/v2"

	"github.com/wgpunch/wgpunch/assets"
	"github.com/wgpunch/wgpunch/ui"
)

// guiIcons wraps the embedded PNGs of package assets for Fyne.
func guiIcons() ui.Icons {
	return ui.Icons{
		App:        fyne.NewStaticResource("app-icon.png", assets.AppIconPNG),
		Connected:  fyne.NewStaticResource("tray-connected.png", assets.TrayConnectedPNG),
		Connecting: fyne.NewStaticResource("tray-connecting.png", assets.TrayConnectingPNG),
		Problem:    fyne.NewStaticResource("tray-problem.png", assets.TrayProblemPNG),
		Off:        fyne.NewStaticResource("tray-off.png", assets.TrayOffPNG),
	}
}
