package ui

import (
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/google/go-cmp/cmp"

	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/ui/internal/fakectl"
)

func TestKeyedRows(t *testing.T) {
	test.NewTempApp(t)
	made := map[string]int{}
	box := container.NewVBox()
	empty := widget.NewLabel("none")
	k := newKeyedRows(box, empty, func(key string) *widget.Label {
		made[key]++
		return widget.NewLabel(key)
	}, func(l *widget.Label) fyne.CanvasObject { return l })
	shown := func() []string {
		var out []string
		for _, o := range box.Objects {
			out = append(out, o.(*widget.Label).Text)
		}
		return out
	}
	steps := []struct {
		keys  []string
		shown []string
		made  map[string]int // rows made so far
	}{
		{nil, []string{"none"}, map[string]int{}},
		{[]string{"a", "b"}, []string{"a", "b"}, map[string]int{"a": 1, "b": 1}},
		{[]string{"b", "a"}, []string{"b", "a"}, map[string]int{"a": 1, "b": 1}},         // reordered, reused
		{[]string{"b", "c"}, []string{"b", "c"}, map[string]int{"a": 1, "b": 1, "c": 1}}, // a dropped
		{[]string{"a", "b"}, []string{"a", "b"}, map[string]int{"a": 2, "b": 1, "c": 1}}, // a is new again
		{[]string{}, []string{"none"}, map[string]int{"a": 2, "b": 1, "c": 1}},
	}
	for i, s := range steps {
		k.set(s.keys)
		if diff := cmp.Diff(s.shown, shown()); diff != "" {
			t.Errorf("step %d %q: box (-want +got):\n%s", i, s.keys, diff)
		}
		if diff := cmp.Diff(s.made, made); diff != "" {
			t.Errorf("step %d %q: rows made (-want +got):\n%s", i, s.keys, diff)
		}
		for _, key := range s.keys {
			if k.get(key) == nil || k.get(key).Text != key {
				t.Errorf("step %d: get(%q) = %v", i, key, k.get(key))
			}
		}
	}
}

// A link made by an invite has no peer until the reply comes: its card says so.
func TestCardWithoutPeer(t *testing.T) {
	a := newTestApp(t, fakectl.New())
	a.list.Update(&control.Report{Tunnels: []control.TunnelStatus{{Name: "New", ListenPort: 51820}}}, t0)
	c := a.list.cards.get("New")
	if c == nil || len(c.peerBox.Objects) != 1 {
		t.Fatalf("peer box = %v, want one placeholder", c)
	}
	if l, ok := c.peerBox.Objects[0].(*widget.Label); !ok || l.Text != "No peer yet: this link waits for the other computer's reply." {
		t.Errorf("peer box shows %#v", c.peerBox.Objects[0])
	}
	a.list.Update(sampleReport(), t0.Add(time.Second))
	if a.list.cards.get("New") != nil {
		t.Error("a tunnel gone from the report still has a card")
	}
}

// A tunnel whose Windows service is still starting is on and says so.
func TestCardStarting(t *testing.T) {
	a := newTestApp(t, fakectl.New())
	a.list.Update(&control.Report{Tunnels: []control.TunnelStatus{{Name: "Home", ListenPort: 51820, Starting: true}}}, t0)
	c := a.list.cards.get("Home")
	if c == nil {
		t.Fatal("no card")
	}
	if !c.toggle.Checked || !strings.Contains(c.info.Text, "starting") || strings.Contains(c.info.Text, "off") {
		t.Errorf("starting tunnel: toggle %v, info %q; want on and starting", c.toggle.Checked, c.info.Text)
	}
}
