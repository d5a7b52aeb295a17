// Package locale keeps Fyne's locale lookup from failing on the C locale
// with a codeset, such as LANG=C.UTF-8 (Debian's default in containers, SSH
// sessions and systemd services).
//
// Fyne's package lang reads the locale in its init, in every role of the one
// wgpunch binary: github.com/jeandeaual/go-locale takes the first non-empty
// of LC_ALL, LC_MESSAGES and LANG; unless that is exactly "C" or "POSIX" it
// prefers LANGUAGE (a colon-separated list) when set; it cuts each entry at
// "." and "_", so "C.UTF-8" becomes the language tag "C", which
// golang.org/x/text/language rejects, and Fyne logs "Error parsing user
// locale C" on stderr. Exactly "C", "POSIX" or nothing is fine: go-locale
// then reports no locale and Fyne falls back to English quietly.
//
// This package's init sets LANGUAGE so that go-locale sees only
// well-formed entries ("en" when none is left). LANGUAGE is the one variable
// that changes nothing but gettext's message catalogues; LC_ALL, LC_MESSAGES,
// LANG and the codeset they carry are left as they are. Restore puts
// LANGUAGE back for the roles that do not run Fyne, so the processes they
// start see the user's environment; Apply sets it again for the GUI, where
// Fyne reads the locale while it runs.
//
// Why this init runs before Fyne's: the Go spec initialises packages in
// steps, each step taking, from the list of all packages sorted by import
// path, the first one not yet initialised whose imports all are. This
// package imports only "os". fyne.io/fyne/v2/lang imports "log", which
// imports "os". When "log" is initialised, "os" already is, so this package
// was ready in that step or earlier, and "github.com/wgpunch/..." sorts
// before "log": it was taken first. So it runs before "log" and hence before
// fyne.io/fyne/v2/lang, whatever imports it. (TestQuietLocale in
// cmd/trayapp checks the result on the real binary.)
//
// Apply and Restore are for main's goroutine (they change the process
// environment). Keep the imports of this package to "os" alone.
package locale

import "os"

// lookup mirrors go-locale's choice on Unix: the first non-empty of these,
// then LANGUAGE unless that first value is exactly "C" or "POSIX".
var lookup = [...]string{"LC_ALL", "LC_MESSAGES", "LANG"}

// fallback is what LANGUAGE becomes when no well-formed entry is left.
const fallback = "en"

// What Apply found in LANGUAGE the first time it changed it (saved), and
// whether LANGUAGE is changed now (set).
var (
	saved, hadSaved, set bool
	savedValue           string
)

func init() { Apply() }

// Apply sets LANGUAGE to the well-formed entries of what go-locale would
// read, if any entry is not well-formed. It changes nothing otherwise.
func Apply() {
	value, ok := fixed(os.Getenv)
	if !ok {
		return
	}
	if !saved {
		savedValue, hadSaved = os.LookupEnv("LANGUAGE")
		saved = true
	}
	os.Setenv("LANGUAGE", value)
	set = true
}

// Restore puts LANGUAGE back as it was before Apply changed it.
func Restore() {
	if !set {
		return
	}
	if hadSaved {
		os.Setenv("LANGUAGE", savedValue)
	} else {
		os.Unsetenv("LANGUAGE")
	}
	set = false
}

// fixed returns the LANGUAGE value that makes go-locale read only
// well-formed entries, and false when what it reads already is well-formed.
func fixed(getenv func(string) string) (string, bool) {
	primary := ""
	for _, name := range lookup {
		if primary = getenv(name); primary != "" {
			break
		}
	}
	if primary == "" || primary == "C" || primary == "POSIX" {
		return "", false
	}
	list := getenv("LANGUAGE")
	if list == "" {
		list = primary
	}
	kept, dropped := "", false
	for _, entry := range split(list, ':') {
		if !wellFormed(entry) {
			dropped = true
			continue
		}
		if kept != "" {
			kept += ":"
		}
		kept += entry
	}
	if !dropped {
		return "", false
	}
	if kept == "" {
		kept = fallback
	}
	return kept, true
}

// wellFormed reports whether go-locale turns entry into a tag that
// golang.org/x/text/language parses: once the codeset (".UTF-8") is cut
// off, a language of two or three letters and, after "_" or "-", an
// optional territory of two letters or three digits. "C", "POSIX" and
// modifiers ("@euro" after the territory) are not.
func wellFormed(entry string) bool {
	name := split(entry, '.')[0]
	lang, territory := name, ""
	for i := 0; i < len(name); i++ {
		if name[i] == '_' || name[i] == '-' {
			lang, territory = name[:i], name[i+1:]
			break
		}
	}
	if len(lang) < 2 || len(lang) > 3 || !all(lang, isLetter) {
		return false
	}
	switch {
	case territory == "":
		return true
	case len(territory) == 2:
		return all(territory, isLetter)
	case len(territory) == 3:
		return all(territory, isDigit)
	}
	return false
}

func all(s string, ok func(byte) bool) bool {
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool  { return '0' <= c && c <= '9' }

// split is strings.Split for one byte (this package imports only "os").
func split(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}
