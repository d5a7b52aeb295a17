package trayicon

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/ui"
)

// toastAppID is the name Windows shows above WG Punch's toasts and groups
// them under in the notification centre (HKCU
// Software\Classes\AppUserModelId\WG Punch, written on the first toast).
const toastAppID = "WG Punch"

// toastGUID is the COM class go-toast registers as the toasts' activator.
// WG Punch does not use it (a click starts wgpunch.exe through the wgpunch:
// URL protocol instead), but a GUID of our own keeps it from another
// go-toast app's.
const toastGUID = "{4F260DDD-E955-4702-A82D-7C9788B70D8A}"

// maxToastText bounds a toast's title and body: Windows shows a few lines
// and an error from the service could be long.
const maxToastText = 400

// toastXML is the Windows toast for n: its title and body, the icon file
// ("" for none) and, on a click, the launch link for click (protocol
// activation: Windows starts wgpunch.exe with the link, which asks the
// running app). A Notice has only a title and a body, so nothing else (no
// key, no token) can get into a toast.
//
// go-toast's PowerShell fallback pastes this text into an expandable
// here-string, where $ and ` would run as PowerShell: every character
// outside plain printable ASCII, and $ ` " ' < > &, is written as an XML
// character reference, so the script only ever sees letters, digits and
// harmless punctuation, and the XML parser gets the text back exactly.
func toastXML(n ui.Notice, click instance.Request, icon string) string {
	var b strings.Builder
	b.WriteString(`<toast activationType="protocol" launch="`)
	b.WriteString(toastEscape(instance.URI(click)))
	b.WriteString(`" duration="short"><visual><binding template="ToastGeneric">`)
	if icon != "" {
		b.WriteString(`<image placement="appLogoOverride" src="`)
		b.WriteString(toastEscape(icon))
		b.WriteString(`"/>`)
	}
	b.WriteString(`<text>`)
	b.WriteString(toastEscape(clip(n.Title)))
	b.WriteString(`</text>`)
	if n.Body != "" {
		b.WriteString(`<text>`)
		b.WriteString(toastEscape(clip(n.Body)))
		b.WriteString(`</text>`)
	}
	b.WriteString(`</binding></visual><audio src="ms-winsoundevent:Notification.Default"/></toast>`)
	return b.String()
}

// toastEscape writes s as XML text safe for an attribute or an element and
// for a PowerShell here-string (see toastXML). Characters XML cannot hold
// (control characters other than tab and newline, broken UTF-8) become a
// space.
func toastEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == utf8.RuneError, r < ' ' && r != '\t' && r != '\n', r == 0xFFFE, r == 0xFFFF, 0xD800 <= r && r <= 0xDFFF:
			b.WriteByte(' ')
		case r > '~' || r < ' ' || strings.ContainsRune("$`\"'<>&", r):
			b.WriteString("&#")
			b.WriteString(strconv.Itoa(int(r)))
			b.WriteByte(';')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clip shortens s to maxToastText characters.
func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxToastText {
		return s
	}
	r := []rune(s)
	return string(r[:maxToastText-1]) + "…"
}
