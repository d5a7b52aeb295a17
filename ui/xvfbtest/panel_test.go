package xvfbtest

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/wgpunch/wgpunch/assets"
)

// panelHeight is the xfce4-panel strip at the top of the screen.
const panelHeight = 32

// panelConfig is an xfce4-panel with one plugin, the notification area
// (it is the desktop's StatusNotifierWatcher and host), across the top.
const panelConfig = `<?xml version="1.0" encoding="UTF-8"?>
<channel name="xfce4-panel" version="1.0">
  <property name="configver" type="int" value="2"/>
  <property name="panels" type="array">
    <value type="int" value="1"/>
    <property name="panel-1" type="empty">
      <property name="position" type="string" value="p=6;x=0;y=0"/>
      <property name="length" type="uint" value="100"/>
      <property name="position-locked" type="bool" value="true"/>
      <property name="size" type="uint" value="32"/>
      <property name="icon-size" type="uint" value="24"/>
      <property name="plugin-ids" type="array">
        <value type="int" value="1"/>
      </property>
    </property>
  </property>
  <property name="plugins" type="empty">
    <property name="plugin-1" type="string" value="systray">
      <property name="square-icons" type="bool" value="true"/>
      <property name="icon-size" type="int" value="24"/>
    </property>
  </property>
</channel>
`

// panel starts a session bus with dbus-launch and a real xfce4-panel on
// it, and returns the bus address once the panel owns the
// StatusNotifierWatcher name.
func (l *lab) panel(t testing.TB) (string, *dbus.Conn) {
	t.Helper()
	cfg := filepath.Join(l.home, ".config", "xfce4", "xfconf", "xfce-perchannel-xml")
	if err := os.MkdirAll(cfg, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cfg, "xfce4-panel.xml"), []byte(panelConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	out := l.ns_(t, "dbus-launch", "--sh-syntax")
	addr := regexp.MustCompile(`DBUS_SESSION_BUS_ADDRESS='([^']+)'`).FindStringSubmatch(out)
	pid := regexp.MustCompile(`DBUS_SESSION_BUS_PID=(\d+)`).FindStringSubmatch(out)
	if addr == nil || pid == nil {
		t.Fatalf("dbus-launch said:\n%s", out)
	}
	busPID, _ := strconv.Atoi(pid[1])
	t.Cleanup(func() {
		if p, err := os.FindProcess(busPID); err == nil {
			p.Kill()
		}
	})
	cmd := l.nsCmd(t.Context(), "xfce4-panel", "--disable-wm-check")
	cmd.Env = append(append([]string(nil), l.env...), "DBUS_SESSION_BUS_ADDRESS="+addr[1])
	l.startCmd(t, "xfce4-panel", cmd)
	conn, err := dbus.Connect(addr[1])
	if err != nil {
		t.Fatalf("connect to the panel's bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	l.waitFor(t, "xfce4-panel's StatusNotifierWatcher", 60*time.Second, func() bool {
		var owned bool
		err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.kde.StatusNotifierWatcher").Store(&owned)
		return err == nil && owned
	})
	return addr[1], conn
}

// panelShot screenshots the panel strip.
func (l *lab) panelShot(t testing.TB) image.Image {
	t.Helper()
	var out bytes.Buffer
	cmd := l.nsCmd(t.Context(), "import", "-window", "root", "-crop", fmt.Sprintf("1280x%d+0+0", panelHeight), "png:-")
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("screenshot the panel: %v", err)
	}
	img, err := png.Decode(&out)
	if err != nil {
		t.Fatalf("decode the panel screenshot: %v", err)
	}
	return img
}

// stateIcons are the tray's four state icons by name.
var stateIcons = map[string][]byte{
	"off": assets.TrayOffPNG, "connected": assets.TrayConnectedPNG,
	"connecting": assets.TrayConnectingPNG, "problem": assets.TrayProblemPNG,
}

// trayIconIn finds the icon in a panel screenshot (what differs from the
// panel's background) and says which state icon it is most like, with the
// mean difference per colour channel (0-255) from each.
func trayIconIn(shot image.Image) (best string, diffs map[string]float64, box image.Rectangle) {
	b := shot.Bounds()
	bg := shot.At(b.Max.X-1, b.Min.Y+b.Dy()/2) // the panel's empty right end
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if colorDist(shot.At(x, y), bg) > 40 {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	if box.Empty() {
		return "", nil, box
	}
	diffs = map[string]float64{}
	for name, data := range stateIcons {
		icon, err := png.Decode(bytes.NewReader(data))
		if err != nil {
			panic(err)
		}
		diffs[name] = iconDiff(shot, box, icon, bg)
		if best == "" || diffs[name] < diffs[best] {
			best = name
		}
	}
	return best, diffs, box
}

// iconDiff scales icon's visible part onto box over bg (a box filter) and
// returns the mean channel difference from the screenshot there.
func iconDiff(shot image.Image, box image.Rectangle, icon image.Image, bg color.Color) float64 {
	var vis image.Rectangle
	ib := icon.Bounds()
	for y := ib.Min.Y; y < ib.Max.Y; y++ {
		for x := ib.Min.X; x < ib.Max.X; x++ {
			if _, _, _, a := icon.At(x, y).RGBA(); a > 0x4000 {
				vis = vis.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	br, bgG, bb, _ := bg.RGBA()
	var sum float64
	for y := 0; y < box.Dy(); y++ {
		for x := 0; x < box.Dx(); x++ {
			// The source rectangle this screen pixel covers.
			x0 := vis.Min.X + x*vis.Dx()/box.Dx()
			x1 := max(x0+1, vis.Min.X+(x+1)*vis.Dx()/box.Dx())
			y0 := vis.Min.Y + y*vis.Dy()/box.Dy()
			y1 := max(y0+1, vis.Min.Y+(y+1)*vis.Dy()/box.Dy())
			var r, g, bl, n float64
			for sy := y0; sy < y1; sy++ {
				for sx := x0; sx < x1; sx++ {
					cr, cg, cb, ca := icon.At(sx, sy).RGBA() // premultiplied
					inv := 1 - float64(ca)/0xffff
					r += float64(cr) + inv*float64(br)
					g += float64(cg) + inv*float64(bgG)
					bl += float64(cb) + inv*float64(bb)
					n++
				}
			}
			want := color.RGBA64{uint16(r / n), uint16(g / n), uint16(bl / n), 0xffff}
			sum += colorDist(shot.At(box.Min.X+x, box.Min.Y+y), want)
		}
	}
	return sum / float64(box.Dx()*box.Dy())
}

// colorDist is the mean absolute difference of two colours' RGB, 0-255.
func colorDist(a, b color.Color) float64 {
	ar, ag, ab, _ := a.RGBA()
	br, bg, bb, _ := b.RGBA()
	d := func(x, y uint32) float64 {
		if x > y {
			return float64(x-y) / 257
		}
		return float64(y-x) / 257
	}
	return (d(ar, br) + d(ag, bg) + d(ab, bb)) / 3
}

// savePanelShot keeps the panel's left end (the tray area), enlarged, in
// the test dir and, with WGPUNCH_SHOTS set, there (docs/screenshots).
func (l *lab) savePanelShot(t testing.TB, img image.Image, name string) string {
	t.Helper()
	crop := image.NewRGBA(image.Rect(0, 0, 240, panelHeight))
	for y := 0; y < panelHeight; y++ {
		for x := 0; x < 240; x++ {
			crop.Set(x, y, img.At(x, y))
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, crop)
	p := filepath.Join(l.dir, name+".png")
	os.WriteFile(p, buf.Bytes(), 0o644)
	if dst := os.Getenv("WGPUNCH_SHOTS"); dst != "" {
		os.MkdirAll(dst, 0o755)
		os.WriteFile(filepath.Join(dst, name+".png"), buf.Bytes(), 0o644)
	}
	return p
}
