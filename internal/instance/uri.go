package instance

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// URIScheme is the URL protocol the Windows installer registers for
// wgpunch.exe. A click on one of the tray's notifications there starts
// `wgpunch.exe "wgpunch:show"`, and that start asks the running app, as a
// second start does. Any web page can launch a URL protocol, so ParseURI
// accepts only the few forms below, each of which just shows something:
//
//	wgpunch:show                 open the window
//	wgpunch:wizard               open the window with the link wizard
//	wgpunch:update?tunnel=NAME   open the window on link NAME's address update
//
// No form changes a setting, takes a token or text to show, or names a
// file: the update itself comes from the background service's status.
// See docs/attacksurface.md.
const URIScheme = "wgpunch"

// maxURI bounds what ParseURI reads; the longest good form is well under it.
const maxURI = 128

// ErrNotURI says a start argument does not use the wgpunch: scheme.
var ErrNotURI = errors.New("not a wgpunch: link")

// IsURI reports whether arg is written in the wgpunch: scheme (and so is
// for ParseURI, not a command name).
func IsURI(arg string) bool {
	return len(arg) > len(URIScheme) && arg[len(URIScheme)] == ':' &&
		strings.EqualFold(arg[:len(URIScheme)], URIScheme)
}

// URI is the wgpunch: link that asks for r: wgpunch:wizard for the
// wizard, wgpunch:show for anything else (a link cannot carry an address
// update or a quit; see UpdateURI).
func URI(r Request) string {
	if r.Action == ActionWizard {
		return URIScheme + ":" + ActionWizard
	}
	return URIScheme + ":" + ActionShow
}

// UpdateURI is the link that opens link tunnel's address update, or
// wgpunch:show when tunnel is not a valid tunnel name.
func UpdateURI(tunnel string) string {
	if conf.ValidateName(tunnel) != nil {
		return URIScheme + ":" + ActionShow
	}
	return URIScheme + ":" + ActionUpdate + "?" + url.Values{"tunnel": {tunnel}}.Encode()
}

// ParseURI reads a wgpunch: link into the request it asks for. For
// ActionUpdate the request carries no Peer or Update yet: the caller fills
// them from the service's status for the returned tunnel. Any
// other link, or one with extra parts, is refused with a plain error.
func ParseURI(s string) (req Request, tunnel string, err error) {
	bad := func(why string) (Request, string, error) {
		return Request{}, "", fmt.Errorf("WG Punch does not understand the link %q: %s. It opens only wgpunch:show, wgpunch:wizard and wgpunch:update?tunnel=NAME", shorten(s), why)
	}
	if !IsURI(s) {
		return Request{}, "", ErrNotURI
	}
	if len(s) > maxURI {
		return bad("it is too long")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return bad("it has spaces or unusual characters")
		}
	}
	if strings.ContainsAny(s, "#\\") {
		return bad("it has parts WG Punch does not use")
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("it is not a well-formed link")
	}
	if u.Opaque == "" || u.User != nil || u.Host != "" || u.Fragment != "" {
		return bad("it has parts WG Punch does not use")
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("its part after ? is not well formed")
	}
	switch u.Opaque {
	case ActionShow, ActionWizard:
		if u.ForceQuery || u.RawQuery != "" {
			return bad("it has parts WG Punch does not use")
		}
		return Request{Action: u.Opaque}, "", nil
	case ActionUpdate:
		if len(q) != 1 || len(q["tunnel"]) != 1 {
			return bad("an update link names one tunnel and nothing else")
		}
		name := q["tunnel"][0]
		if err := conf.ValidateName(name); err != nil {
			return bad(err.Error())
		}
		return Request{Action: ActionUpdate}, name, nil
	}
	return bad("it asks for something WG Punch does not do from a link")
}

// shorten keeps an error message readable when a link is long or odd.
func shorten(s string) string {
	const n = 60
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
