package ui

import (
	"context"
	"time"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

// localLANs asks the Controller which of this computer's subnets could be
// shared (the rules are netinfo.FilterLANs'), as wizard choices, none
// ticked. It never returns nil, so the wizard asks only once.
func localLANs(ctl control.Controller) []LAN {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	lans, err := ctl.LocalLANs(ctx)
	out := make([]LAN, 0, len(lans))
	if err != nil {
		return out
	}
	for _, l := range lans {
		out = append(out, LAN{Prefix: l.Prefix.String(), Iface: l.Iface})
	}
	return out
}
