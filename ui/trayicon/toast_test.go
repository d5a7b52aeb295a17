package trayicon

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/ui"
)

// parsedToast is the part of a toast a test checks.
type parsedToast struct {
	Activation string `xml:"activationType,attr"`
	Launch     string `xml:"launch,attr"`
	Image      struct {
		Src string `xml:"src,attr"`
	} `xml:"visual>binding>image"`
	Texts []string `xml:"visual>binding>text"`
}

func parseToast(t *testing.T, s string) parsedToast {
	t.Helper()
	var p parsedToast
	if err := xml.Unmarshal([]byte(s), &p); err != nil {
		t.Fatalf("toast is not XML: %v\n%s", err, s)
	}
	return p
}

func TestToastXML(t *testing.T) {
	x := toastXML(ui.Notice{Title: "office connected", Body: "Linked with Bob."},
		instance.Request{Action: instance.ActionShow}, `C:\Users\Ann\AppData\Local\wgpunch\wgpunch.png`)
	p := parseToast(t, x)
	if p.Activation != "protocol" || p.Launch != "wgpunch:show" {
		t.Errorf("activation %q launch %q; want protocol, wgpunch:show", p.Activation, p.Launch)
	}
	if p.Image.Src != `C:\Users\Ann\AppData\Local\wgpunch\wgpunch.png` {
		t.Errorf("icon %q", p.Image.Src)
	}
	if len(p.Texts) != 2 || p.Texts[0] != "office connected" || p.Texts[1] != "Linked with Bob." {
		t.Errorf("texts %q", p.Texts)
	}
	if _, _, err := instance.ParseURI(p.Launch); err != nil {
		t.Errorf("the launch link is one ParseURI refuses: %v", err)
	}

	// No icon, no body, the wizard.
	p = parseToast(t, toastXML(ui.Notice{Title: "t"}, instance.Request{Action: instance.ActionWizard}, ""))
	if p.Launch != "wgpunch:wizard" || p.Image.Src != "" || len(p.Texts) != 1 {
		t.Errorf("got %+v", p)
	}
	// A click that a link cannot carry opens the window.
	p = parseToast(t, toastXML(ui.Notice{Title: "t"}, instance.Request{Action: instance.ActionQuit}, ""))
	if p.Launch != "wgpunch:show" {
		t.Errorf("quit click launches %q; want wgpunch:show", p.Launch)
	}
}

// TestToastXMLEscapes feeds text that would break the XML or run as
// PowerShell in go-toast's here-string fallback, and checks that it comes
// back unchanged from the XML and never appears raw.
func TestToastXMLEscapes(t *testing.T) {
	for _, text := range []string{
		`$(Start-Process calc) ${env:USERNAME} $x`,
		"back`tick `$(x)",
		"line one\n\"@\nWrite-Host pwned\n@\"",
		`</text></binding><action activationType="protocol" arguments="https://evil.example"/>`,
		"]]><![CDATA[ & < > ' \"",
		"Grüße — “quotes” ‘single’ 😀",
		"tab\there",
	} {
		x := toastXML(ui.Notice{Title: text, Body: text}, instance.Request{Action: instance.ActionShow}, `C:\a $b\c.png`)
		for _, raw := range []string{"$", "`", "\n", "\"@", "@\"", "“", "‘", "]]>"} {
			if strings.Contains(x, raw) {
				t.Errorf("toast for %q has %q raw:\n%s", text, raw, x)
			}
		}
		for _, r := range x {
			if r > '~' || r < ' ' {
				t.Errorf("toast for %q has non-ASCII %q", text, r)
				break
			}
		}
		p := parseToast(t, x)
		if len(p.Texts) != 2 || p.Texts[0] != text || p.Texts[1] != text {
			t.Errorf("text %q came back as %q", text, p.Texts)
		}
		if p.Launch != "wgpunch:show" || p.Image.Src != `C:\a $b\c.png` {
			t.Errorf("launch %q icon %q", p.Launch, p.Image.Src)
		}
	}
}

func TestToastXMLOddText(t *testing.T) {
	x := toastXML(ui.Notice{Title: "a\x00b\x1bc\xffd", Body: strings.Repeat("é", 1000)}, instance.Request{Action: instance.ActionShow}, "")
	p := parseToast(t, x)
	if p.Texts[0] != "a b c d" {
		t.Errorf("control characters and broken UTF-8: got %q", p.Texts[0])
	}
	if n := len([]rune(p.Texts[1])); n != maxToastText || !strings.HasSuffix(p.Texts[1], "…") {
		t.Errorf("long body is %d characters; want %d ending in …", n, maxToastText)
	}
}
