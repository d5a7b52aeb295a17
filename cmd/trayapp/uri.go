package main

import (
	"context"
	"io"
	"time"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/tunnel/control"
)

// linkRequest is what a start with a wgpunch: link asks the running app
// (instance.ParseURI). A link never carries an address update: for
// wgpunch:update?tunnel=NAME it comes from the service's status of that
// tunnel (r, nil if the service cannot be asked). Exactly one update
// waiting there is shown; none, several or no status opens the window,
// which lists them all.
func linkRequest(req instance.Request, tunnel string, r *control.Report) instance.Request {
	if req.Action != instance.ActionUpdate {
		return req
	}
	show := instance.Request{Action: instance.ActionShow}
	if r == nil {
		return show
	}
	var found []control.Warning
	for _, t := range r.Tunnels {
		if t.Name != tunnel {
			continue
		}
		for _, w := range t.Warnings {
			if w.Code == "public-address-changed" && w.Update != "" {
				found = append(found, w)
			}
		}
	}
	if len(found) != 1 {
		return show
	}
	return instance.Request{Action: instance.ActionUpdate, Peer: found[0].Peer, Update: found[0].Update}
}

// linkStart reads a start's wgpunch: link (Windows starts
// `wgpunch.exe "wgpunch:show"` when a notification is clicked) into the
// request for the running app. A refused link is an error in plain words.
func (c *cli) linkStart(link string) (instance.Request, error) {
	req, tunnel, err := instance.ParseURI(link)
	if err != nil || req.Action != instance.ActionUpdate {
		return req, err
	}
	var rep *control.Report
	if ctl, ok := c.daemon(); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if r, err := ctl.Status(ctx, tunnel); err == nil {
			rep = r
		}
		cancel()
		if cl, ok := ctl.(io.Closer); ok {
			cl.Close()
		}
	}
	return linkRequest(req, tunnel, rep), nil
}
