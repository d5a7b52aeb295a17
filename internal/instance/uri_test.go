package instance

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURIGood(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   Request
		tunnel string
	}{
		{"wgpunch:show", Request{Action: ActionShow}, ""},
		{"WGPUNCH:show", Request{Action: ActionShow}, ""}, // Windows may pass the scheme in capitals
		{"wgpunch:wizard", Request{Action: ActionWizard}, ""},
		{"wgpunch:update?tunnel=office", Request{Action: ActionUpdate}, "office"},
		{"wgpunch:update?tunnel=a_b%3Dc%2B1.x-y", Request{Action: ActionUpdate}, "a_b=c+1.x-y"},
	} {
		got, tunnel, err := ParseURI(tc.in)
		if err != nil {
			t.Errorf("ParseURI(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want || tunnel != tc.tunnel {
			t.Errorf("ParseURI(%q) = %+v, %q; want %+v, %q", tc.in, got, tunnel, tc.want, tc.tunnel)
		}
	}
}

func TestParseURIBad(t *testing.T) {
	for _, in := range []string{
		"wgpunch:",
		"wgpunch:quit",             // changes state: never from a link
		"wgpunch:ping",             // internal
		"wgpunch:Show",             // actions are lower case
		"wgpunch:show/",            // what some launchers make of a link
		"wgpunch://show",           // hierarchical form
		"wgpunch://show/",          //
		"wgpunch://evil.example/x", //
		"wgpunch:show?x=1",
		"wgpunch:show?",
		"wgpunch:show#frag",
		"wgpunch:wizard?invite=WGP1-secret", // no tokens from a link
		"wgpunch:update",
		"wgpunch:update?",
		"wgpunch:update?tunnel=",
		"wgpunch:update?tunnel=office&tunnel=home",
		"wgpunch:update?tunnel=office&update=WGP1U-forged", // the update comes from the service, never the link
		"wgpunch:update?peer=office",
		"wgpunch:update?tunnel=..",
		"wgpunch:update?tunnel=-rf",
		"wgpunch:update?tunnel=../../x",
		"wgpunch:update?tunnel=a%2Fb",
		"wgpunch:update?tunnel=sixteen-chars-xx", // longer than an interface name
		"wgpunch:update?tunnel=off%00ice",
		"wgpunch:update?tunnel=off%ice", // bad escape
		"wgpunch:update?tunnel=office;x",
		"wgpunch:show extra",
		"wgpunch:show\n",
		"wgpunch:show\x00",
		"wgpunch:sh\u00f6w",
		"wgpunch:show\\..\\x",
		"wgpunch:user@show",
		"wgpunch:update?tunnel=" + strings.Repeat("a", 200),
	} {
		req, tunnel, err := ParseURI(in)
		if err == nil {
			t.Errorf("ParseURI(%q) = %+v, %q; want an error", in, req, tunnel)
			continue
		}
		if errors.Is(err, ErrNotURI) {
			t.Errorf("ParseURI(%q): %v; want a refusal of a wgpunch: link", in, err)
		}
		if !strings.Contains(err.Error(), "wgpunch:show") {
			t.Errorf("ParseURI(%q): %q does not say which links work", in, err)
		}
		if strings.ContainsAny(err.Error(), "\n\x00") {
			t.Errorf("ParseURI(%q): error %q carries control characters", in, err)
		}
	}
}

func TestParseURINotOurs(t *testing.T) {
	for _, in := range []string{"", "show", "wgpunch", "status", "--tray", "http://x", "wgpunchx:show", "c:\\wgpunch.exe"} {
		if IsURI(in) {
			t.Errorf("IsURI(%q) = true", in)
		}
		if _, _, err := ParseURI(in); !errors.Is(err, ErrNotURI) {
			t.Errorf("ParseURI(%q): %v; want ErrNotURI", in, err)
		}
	}
}

func TestURIRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		uri    string
		want   Request
		tunnel string
	}{
		{URI(Request{Action: ActionShow}), Request{Action: ActionShow}, ""},
		{URI(Request{Action: ActionWizard}), Request{Action: ActionWizard}, ""},
		// A link cannot carry quit or an update's text: those open the window.
		{URI(Request{Action: ActionQuit}), Request{Action: ActionShow}, ""},
		{URI(Request{Action: ActionUpdate, Peer: "bob", Update: "WGP1U-x"}), Request{Action: ActionShow}, ""},
		{UpdateURI("home+1"), Request{Action: ActionUpdate}, "home+1"},
		{UpdateURI("../x"), Request{Action: ActionShow}, ""},
	} {
		got, tunnel, err := ParseURI(tc.uri)
		if err != nil || got != tc.want || tunnel != tc.tunnel {
			t.Errorf("ParseURI(%q) = %+v, %q, %v; want %+v, %q", tc.uri, got, tunnel, err, tc.want, tc.tunnel)
		}
	}
}
