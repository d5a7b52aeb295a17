package ui

import (
	"strings"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/ui/internal/fakectl"
)

// hasLabel walks a tree for a label whose text contains s.
func hasLabel(o fyne.CanvasObject, s string) bool {
	switch x := o.(type) {
	case *widget.Label:
		return x.Visible() && strings.Contains(x.Text, s)
	case *fyne.Container:
		for _, c := range x.Objects {
			if hasLabel(c, s) {
				return true
			}
		}
	case fyne.Widget:
		for _, c := range test.WidgetRenderer(x).Objects() {
			if hasLabel(c, s) {
				return true
			}
		}
	}
	return false
}

var aliasedPeer = control.PeerStatus{
	Name: "Office B", PublicKey: "CCCC", Address: "10.38.74.2/32", State: "connected",
	LANs:    []control.LANStatus{{Prefix: "192.168.1.0/24", ReachAs: "10.201.1.0/24"}},
	ServeAs: []control.LANStatus{{Prefix: "192.168.1.0/24", ReachAs: "10.57.1.0/24"}},
}

// TestPeerAliases: the window's peer details say how an aliased LAN is
// reached, with an example address and the commands for the other
// computers of this office; a peer without aliases shows nothing of it.
func TestPeerAliases(t *testing.T) {
	a := newTestApp(t, fakectl.New())
	r := newPeerRow(a, "officeb")
	r.lanAddress = "192.168.1.10"
	r.Update(aliasedPeer, t0)
	want := strings.Join([]string{
		"Office B's 192.168.1.0/24 is reached here as 10.201.1.0/24: a device at 192.168.1.50 there is 10.201.1.50 here.",
		"Other computers in this office reach it through this one:",
		"  Linux: sudo ip route add 10.201.1.0/24 via 192.168.1.10",
		"  Windows: route -p add 10.201.1.0 mask 255.255.255.0 192.168.1.10",
		"  on your router: a static route to 10.201.1.0/24 via 192.168.1.10",
		"Office B reaches your 192.168.1.0/24 as 10.57.1.0/24 (your 192.168.1.50 is 10.57.1.50 there).",
	}, "\n")
	if !r.aliases.Visible() || r.aliases.Text != want {
		t.Errorf("aliases shown %v:\n%s\nwant:\n%s", r.aliases.Visible(), r.aliases.Text, want)
	}
	w := test.NewTempWindow(t, r.root)
	w.Resize(fyne.NewSize(760, 260))
	test.AssertRendersToMarkup(t, "peer_alias.xml", w.Canvas())
	plain := aliasedPeer
	plain.LANs, plain.ServeAs = []control.LANStatus{{Prefix: "192.168.9.0/24", ReachAs: "192.168.9.0/24"}}, nil
	r.Update(plain, t0)
	if r.aliases.Visible() {
		t.Errorf("a peer without aliases shows %q", r.aliases.Text)
	}
}

// TestWizardReviewAliases: the review step (and the share step, which
// uses the same block) shows each alias sentence of the result.
func TestWizardReviewAliases(t *testing.T) {
	_, v, _ := newTestWizard(t, fakectl.New())
	r := &control.AcceptResult{Kind: "invite", Tunnel: "officea", PeerName: "Office A",
		RouteSummary: "This link sends 10.38.74.0/24 (the tunnel) and Office A's 10.201.1.0/24 (its shared LAN, 192.168.1.0/24 under an alias) into the tunnel, nothing else.",
		Aliases: []string{
			"Office A's 192.168.1.0/24 is reached here as 10.201.1.0/24: a device at 192.168.1.50 there is 10.201.1.50 here. Other computers in this office reach it through this one: Linux: sudo ip route add 10.201.1.0/24 via 192.168.1.20; Windows: route -p add 10.201.1.0 mask 255.255.255.0 192.168.1.20; on your router: a static route to 10.201.1.0/24 via 192.168.1.20.",
		}}
	b := v.reviewBlock(r)
	if !hasLabel(b, "is reached here as 10.201.1.0/24") || !hasLabel(b, "sudo ip route add 10.201.1.0/24 via 192.168.1.20") {
		t.Error("the review does not show the alias sentence")
	}
	w := test.NewTempWindow(t, b)
	w.Resize(fyne.NewSize(760, 420))
	test.AssertRendersToMarkup(t, "wizard_review_alias.xml", w.Canvas())
}
