package trayicon

// osIcon wraps a PNG in an .ico file, which the Win32 tray loads; since
// Windows Vista an .ico entry may hold a PNG as it is.
func osIcon(png []byte) []byte { return pngICO(png) }
