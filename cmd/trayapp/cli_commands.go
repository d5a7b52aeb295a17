package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/wgpunch/wgpunch/internal/version"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/invite"
	"github.com/wgpunch/wgpunch/tunnel/ipc"
	"github.com/wgpunch/wgpunch/tunnel/natcheck"
)

func init() {
	commands = []*command{
		{name: "invite", args: "NAME [--port N] [--endpoint HOST:PORT] [--lan CIDR,...] [--subnet CIDR] [--stun HOST:PORT,...] [--name DISPLAY] [--qr FILE.png] [--allow-public-routes] [--json]",
			summary: "create tunnel NAME (if new) and print an invite for the other computer",
			help: `Prints the one-line invite on standard output (nothing else); notes and the
NAT check verdict go to standard error. Send the line (or the QR code) to the
other side; they run "wgpunch accept NAME LINE" and send back a reply, which
you take with "wgpunch accept NAME REPLY". Inviting again while the invite is
unanswered prints the same invite (same ID) with fresh addresses.

  --port N             UDP listen port (default: a free one from 51820 up)
  --endpoint HOST:PORT address the other side should send to (default: found
                       by a STUN NAT check; a DNS name works for dynamic DNS);
                       give it twice for both families: an IPv4 address or
                       name and an IPv6 one, like [2001:db8::7]:51820
  --lan CIDR,...       LAN subnets of this side to share through the tunnel
  --subnet CIDR        the tunnel's own subnet, for a new tunnel (default: a
                       free 10.x.y.0/24); use the one the other side suggests
                       when it refused your invite's subnet
  --stun HOST:PORT,... STUN servers for the NAT check (default: settings)
  --name DISPLAY       how this machine introduces itself (default: hostname)
  --qr FILE.png        also write the invite as a QR code image
  --allow-public-routes
                       let --lan share public internet addresses; only if you
                       know why: WG Punch otherwise shares private networks
                       only (10/8, 172.16/12, 192.168/16, fc00::/7)
  --json               print the result as JSON instead of the bare line
`,
			run: cmdInvite},
		{name: "accept", args: "NAME [TOKEN | - | --qr FILE.png] [--port N] [--endpoint HOST:PORT] [--lan CIDR,...] [--stun HOST:PORT,...] [--name DISPLAY] [--reply-qr FILE.png] [--allow-public-routes] [--yes] [--json]",
			summary: "take an invite (creating tunnel NAME, printing a reply), a reply to our invite, or an address update",
			help: `With an invite: creates tunnel NAME linked to the inviter and prints the reply
line on standard output — send it back. With a reply to an invite NAME issued:
adds the other side to NAME. With an address update (WGP1U-..., which the
other side's WG Punch shows when its internet address changed): moves only
that peer to its new address; a forged, damaged, replayed or foreign update
changes nothing and says why.
Before anything is saved, standard error says what the link sends into the
tunnel (the tunnel subnet and the other side's LANs) and what of yours the
other side reaches, then on a terminal asks "Accept? [y/N]" (--yes skips the
question; off a terminal accept goes on without asking). "Safety code: ..."
is printed on standard error, for a reply before the question, for an invite
with the reply: compare it with the other side's (e.g. on the phone); if the
codes differ, someone tampered with the messages — do not accept, or remove
the tunnel.
A link only routes private networks (10/8, 172.16/12, 192.168/16, fc00::/7;
IPv6 /48 or narrower): an invite or reply asking for anything else is
refused and nothing is saved.
TOKEN "-" or no TOKEN reads it from standard input.

  --qr FILE.png        read the invite/reply from a QR code image
  --port N             UDP listen port (default: a free one)
  --endpoint HOST:PORT address the other side should send to (default: NAT
                       check); once per address family (IPv4 or name, IPv6)
  --lan CIDR,...       LAN subnets of this side to share
  --stun HOST:PORT,... STUN servers for the NAT check
  --name DISPLAY       how this machine introduces itself (default: hostname)
  --reply-qr FILE.png  also write the reply as a QR code image
  --allow-public-routes
                       WARNING: let this link route public internet addresses
                       the other side asks for (and share public --lan ones);
                       only if you know why — it can send traffic meant for
                       the internet to the other computer
  -y, --yes            accept without asking
  --json               print the result as JSON
`,
			run: cmdAccept},
		{name: "list", args: "", summary: "list the tunnels", run: cmdList},
		{name: "show", args: "NAME", summary: "print a tunnel's config without its private key", run: cmdShow},
		{name: "export", args: "NAME [--private-key] [-o FILE]",
			summary: "print a tunnel as a wg-quick file for stock WireGuard tools",
			help: `Without --private-key the PrivateKey line is a comment saying how to add it.

  --private-key  include the private key (keep the file secret; needs root or
                 group wgpunch when a daemon runs)
  -o FILE        write to FILE (mode 0600) instead of standard output
`,
			run: cmdExport},
		{name: "remove", args: "NAME [--yes]",
			summary: "take a tunnel down and delete it with its keys",
			help: `Asks for confirmation on a terminal; elsewhere --yes is required.

  --yes  do not ask
`,
			run: cmdRemove},
		{name: "rename", args: "OLD NEW", summary: "rename a tunnel (a running tunnel is restarted under the new name)", run: cmdRename},
		{name: "set-port", args: "NAME PORT", summary: "change a tunnel's UDP listen port (the other side must be told)", run: cmdSetPort},
		{name: "up", args: "NAME", summary: "bring a tunnel up (needs the daemon); it comes back after a restart", run: cmdUp},
		{name: "down", args: "NAME", summary: "take a tunnel down (needs the daemon)", run: cmdDown},
		{name: "status", args: "[NAME] [--json] [--watch]",
			summary: "show tunnels, peers, handshakes, traffic and warnings",
			help: `  --json   print one JSON object (with --watch: one per line, every second)
  --watch  redraw every second until Ctrl-C
`,
			run: cmdStatus},
		{name: "natcheck", args: "[--port N] [--stun HOST:PORT,...] [--json]",
			summary: "find this machine's public address and whether its NAT can be punched",
			help: `  --port N             local UDP port to test from (default: a free one)
  --stun HOST:PORT,... STUN servers (default: settings, else built-in public ones)
  --json               print the report as JSON
`,
			run: cmdNATCheck},
		{name: "settings", args: "[--stun HOST:PORT,... | --stun-default] [--json]",
			summary: "show or change the STUN servers NAT checks use",
			help: `Without flags, prints the STUN servers NAT checks use and whether they are
the built-in defaults. Changing them needs root or group wgpunch when a daemon
runs. The WG Punch window has the same under "Settings...".

  --stun HOST:PORT,... use these STUN servers (at most 8; HOST alone means
                       port 3478; IPv6 in brackets: [2001:db8::1]:3478)
  --stun-default       go back to the built-in public STUN servers
  --json               print the settings as JSON
`,
			run: cmdSettings},
		{name: "daemon", args: "[--group G] [--no-lan] [--hostname NAME] [--debug]",
			summary: "run the privileged daemon (as root; normally started by systemd)",
			help: `Brings up the tunnels that were up when it last stopped, serves the
socket, and on SIGTERM/SIGINT takes tunnels down (they come back next start).

  --group G        members of group G may change tunnels (default: settings,
                   else "wgpunch")
  --no-lan         do not announce/discover tunnel ports on the LAN (mDNS)
  --hostname NAME  name announced on the LAN and default display name in
                   invites (default: the host name)
  --debug          also log LAN discovery details (or set WGPUNCH_DEBUG=1)
`,
			run: cmdDaemon},
		{name: "log", args: "[--follow]",
			summary: "print the Windows tunnel services' log as text (as administrator)",
			help: `Prints the log the tunnel services keep in WireGuard's ring log
(C:\Program Files\WG Punch\Data\log.bin, readable only by administrators):
run it in a Command Prompt started as administrator. Elsewhere the daemon
logs to the system journal (journalctl -u wgpunch).

  --follow   keep printing new lines until Ctrl-C
`,
			run: cmdLog},
		{name: "version", args: "", summary: "print the version", run: cmdVersion},
		{name: "help", args: "[COMMAND]", summary: "show help for all or one command", run: cmdHelp},
	}
}

func cmdHelp(c *cli, cmd *command, args []string) error {
	if len(args) == 0 {
		c.printUsage(c.stdout)
		return nil
	}
	sub := findCommand(args[0])
	if sub == nil {
		return usagef(cmd, "unknown command %q", args[0])
	}
	c.printCommandUsage(c.stdout, sub)
	return nil
}

func cmdLog(c *cli, cmd *command, args []string) error {
	fs := c.flags(cmd)
	follow := fs.Bool("follow", false, "")
	if _, err := c.parse(cmd, fs, args, 0, 0); err != nil {
		return err
	}
	return serviceLog(c.stdout, *follow)
}

func cmdVersion(c *cli, cmd *command, args []string) error {
	if _, err := c.parse(cmd, nil, args, 0, 0); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, version.String())
	return nil
}

// linkFlags are the flags invite and accept share: how this side of a
// new link listens, is reached and reports.
type linkFlags struct {
	port     portFlag
	lans     listFlag
	stun     listFlag
	endpoint listFlag // one per address family
	display  *string
	asJSON   *bool
	public   *bool
}

func addLinkFlags(fs *flag.FlagSet) *linkFlags {
	lf := &linkFlags{
		display: fs.String("name", "", ""),
		asJSON:  fs.Bool("json", false, ""),
		public:  fs.Bool("allow-public-routes", false, ""),
	}
	fs.Var(&lf.port, "port", "")
	fs.Var(&lf.endpoint, "endpoint", "")
	fs.Var(&lf.lans, "lan", "")
	fs.Var(&lf.stun, "stun", "")
	return lf
}

// linkController is the Controller for invite/accept, with the note that
// says when there is no daemon.
func (c *cli) linkController() (control.Controller, error) {
	ctl, local, err := c.controller()
	if err != nil {
		return nil, err
	}
	if local {
		c.localNote()
	}
	return ctl, nil
}

func (c *cli) natNote(r *natcheck.Report) {
	if r != nil {
		c.note("NAT check: %s (%s) — %s", r.Verdict, r.Mapping, r.Message)
	}
}

// lines notes each of ls as it is (the alias sentences).
func (c *cli) lines(ls []string) {
	for _, l := range ls {
		c.note("%s", l)
	}
}

func (c *cli) notes(ns []string) {
	for _, n := range ns {
		c.note("note: %s", n)
	}
}

func cmdInvite(c *cli, cmd *command, args []string) error {
	fs := c.flags(cmd)
	lf := addLinkFlags(fs)
	qr := fs.String("qr", "", "")
	subnet := fs.String("subnet", "", "")
	pos, err := c.parse(cmd, fs, args, 1, 1)
	if err != nil {
		return err
	}
	ctl, err := c.linkController()
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	res, err := ctl.Invite(ctx, control.InviteRequest{
		Name: pos[0], DisplayName: *lf.display, Port: uint16(lf.port), Endpoint: lf.endpoint.String(), LANs: lf.lans, Subnet: *subnet, STUN: lf.stun, AllowPublicRoutes: *lf.public,
	})
	if err != nil {
		return err
	}
	if *qr != "" {
		if err := writeFile(*qr, res.QRPNG, 0o600); err != nil {
			return fmt.Errorf("the invite was made, but %w", err)
		}
	}
	if *lf.asJSON {
		res.QRPNG = nil
		return printJSON(c.stdout, res)
	}
	fmt.Fprintln(c.stdout, res.Token)
	announced := res.Endpoint
	if res.Endpoint6 != "" {
		announced += " and " + res.Endpoint6
	}
	c.note("Invite for tunnel %s: this machine listens on UDP port %d, announced as %s.", res.Tunnel, res.ListenPort, announced)
	c.natNote(res.NAT)
	c.notes(res.Notes)
	if *qr != "" {
		c.note("QR code written to %s.", *qr)
	}
	c.note("Send the line above to the other computer; it runs: wgpunch accept NAME LINE")
	c.note("Then take its reply here with: wgpunch accept %s REPLY", res.Tunnel)
	return nil
}

func (c *cli) localNote() {
	dir := c.stateDir
	if dir == "" {
		dir = "the default state directory"
	}
	c.note("note: no WG Punch daemon answers on %s; working on %s directly", c.socket, dir)
}

func cmdAccept(c *cli, cmd *command, args []string) error {
	fs := c.flags(cmd)
	lf := addLinkFlags(fs)
	qr := fs.String("qr", "", "")
	replyQR := fs.String("reply-qr", "", "")
	var yes bool
	fs.BoolVar(&yes, "yes", false, "")
	fs.BoolVar(&yes, "y", false, "")
	pos, err := parseArgs(cmd, fs, args)
	if err != nil {
		return err
	}
	// "wgpunch accept [TOKEN]": a reply needs no tunnel name.
	name, tokArgs := "", pos
	if len(pos) > 0 && !looksLikeToken(pos[0]) && pos[0] != "-" {
		name, tokArgs = pos[0], pos[1:]
	}
	var token string
	switch {
	case *qr != "":
		if len(tokArgs) > 0 {
			return usagef(cmd, "give either TOKEN or --qr, not both")
		}
		t, err := invite.DecodeQRFile(*qr)
		if err != nil {
			return fmt.Errorf("read QR code %s: %v; use a sharp, uncropped picture, or paste the text line instead", *qr, err)
		}
		token = t
	case len(tokArgs) == 0 || len(tokArgs) == 1 && tokArgs[0] == "-":
		t, err := c.readToken()
		if err != nil {
			return err
		}
		token = t
	default:
		token = strings.Join(tokArgs, "")
	}
	ctl, err := c.linkController()
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	req := control.AcceptRequest{
		Name: name, Token: token, DisplayName: *lf.display, Port: uint16(lf.port), Endpoint: lf.endpoint.String(), LANs: lf.lans, STUN: lf.stun, AllowPublicRoutes: *lf.public,
	}
	// Show before you take: what the link routes and shares, and the
	// safety code when it is known, before anything is saved.
	pre, err := ctl.PreviewAccept(ctx, req)
	if err != nil {
		return err
	}
	c.preview(pre)
	if !yes && !c.confirm("Accept?") {
		return fmt.Errorf("nothing was accepted or saved (answer y to accept, or add --yes)")
	}
	res, err := ctl.Accept(ctx, req)
	if err != nil {
		return err
	}
	if *replyQR != "" && len(res.ReplyQRPNG) > 0 {
		if err := writeFile(*replyQR, res.ReplyQRPNG, 0o600); err != nil {
			return fmt.Errorf("the invite was accepted, but %w", err)
		}
	}
	if *lf.asJSON {
		res.ReplyQRPNG = nil
		if err := printJSON(c.stdout, res); err != nil {
			return err
		}
	} else if res.Kind == "invite" {
		fmt.Fprintln(c.stdout, res.Reply)
	}
	switch res.Kind {
	case "invite":
		c.note("Tunnel %s created, linked to %s.", res.Tunnel, res.PeerName)
		c.natNote(res.NAT)
	case "update":
		c.notes(res.Notes)
		return nil
	default:
		c.note("%s added to tunnel %s.", res.PeerName, res.Tunnel)
	}
	if res.RouteSummary != pre.RouteSummary || !slices.Equal(res.Aliases, pre.Aliases) { // changed since the preview (another WG Punch, a NAT check)
		c.note("%s", res.RouteSummary)
		c.lines(res.Aliases)
	}
	if res.SafetyCode != pre.SafetyCode {
		c.safetyCode(res)
		c.note("Compare it with the code %s sees; if they differ, remove the tunnel (wgpunch remove %s --yes).", res.PeerName, res.Tunnel)
	}
	printWarnings(c.stderr, newWarnings(res.Warnings, pre.Warnings))
	c.notes(res.Notes)
	if res.Kind == "invite" && *replyQR != "" {
		c.note("Reply QR code written to %s.", *replyQR)
	}
	return nil
}

// preview says what accepting would do, from PreviewAccept's result: the
// routing sentence, the safety code (a reply's; an invite's comes with
// the reply) and the warnings.
func (c *cli) preview(pre *control.AcceptResult) {
	if pre.Kind == "update" {
		c.note("This address update from %s is for tunnel %s: %s.", nameOrOther(pre.PeerName), pre.Tunnel, strings.Join(pre.Notes, "; "))
		return
	}
	if pre.Kind == "invite" {
		c.note("This invite from %s creates tunnel %s.", pre.PeerName, pre.Tunnel)
	} else {
		c.note("This reply from %s joins tunnel %s.", pre.PeerName, pre.Tunnel)
	}
	if pre.RouteSummary != "" {
		c.note("%s", pre.RouteSummary)
	}
	c.lines(pre.Aliases)
	if pre.SafetyCode != "" {
		c.safetyCode(pre)
		c.note("Compare it with the code %s sees; if they differ, someone changed the messages on the way: do not accept.", pre.PeerName)
	} else {
		c.note("The safety code comes with the reply, once accepted; compare it with the code %s sees.", pre.PeerName)
	}
	printWarnings(c.stderr, pre.Warnings)
}

func (c *cli) safetyCode(r *control.AcceptResult) {
	if r.SafetyCodeKeysOnly {
		c.note("Safety code: %s (keys only: %s runs an older WG Punch)", r.SafetyCode, r.PeerName)
	} else {
		c.note("Safety code: %s", r.SafetyCode)
	}
}

// newWarnings is ws without those already in shown.
func newWarnings(ws, shown []control.Warning) []control.Warning {
	var out []control.Warning
	for _, w := range ws {
		if !slices.Contains(shown, w) {
			out = append(out, w)
		}
	}
	return out
}

func cmdList(c *cli, cmd *command, args []string) error {
	ctl, _, err := c.open(cmd, nil, args, 0, 0)
	if err != nil {
		return err
	}
	names, err := ctl.List(context.Background())
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(c.stdout, n)
	}
	return nil
}

// oneName is open for the commands that take just a tunnel name.
func oneName(c *cli, cmd *command, args []string) (control.Controller, string, error) {
	ctl, pos, err := c.open(cmd, nil, args, 1, 1)
	if err != nil {
		return nil, "", err
	}
	return ctl, pos[0], nil
}

func cmdShow(c *cli, cmd *command, args []string) error {
	ctl, name, err := oneName(c, cmd, args)
	if err != nil {
		return err
	}
	cfg, err := ctl.Show(context.Background(), name)
	if err != nil {
		return err
	}
	cfg = cfg.Redacted()
	_, err = c.stdout.Write(cfg.Marshal())
	return err
}

func cmdExport(c *cli, cmd *command, args []string) error {
	fs := c.flags(cmd)
	withKey := fs.Bool("private-key", false, "")
	out := fs.String("o", "", "")
	ctl, pos, err := c.open(cmd, fs, args, 1, 1)
	if err != nil {
		return err
	}
	data, err := ctl.Export(context.Background(), pos[0], *withKey)
	if err != nil {
		return err
	}
	if *out == "" || *out == "-" {
		_, err = c.stdout.Write(data)
		return err
	}
	return writeFile(*out, data, 0o600)
}

func cmdRemove(c *cli, cmd *command, args []string) error {
	fs := c.flags(cmd)
	yes := fs.Bool("yes", false, "")
	pos, err := c.parse(cmd, fs, args, 1, 1)
	if err != nil {
		return err
	}
	if !*yes {
		if !c.terminal() {
			return usagef(cmd, "removing %s deletes its keys for good; add --yes to confirm", pos[0])
		}
		if !c.confirm(fmt.Sprintf("Remove tunnel %s and its keys for good?", pos[0])) {
			return fmt.Errorf("tunnel %s was not removed (answer y to remove it, or add --yes)", pos[0])
		}
	}
	ctl, _, err := c.controller()
	if err != nil {
		return err
	}
	if err := ctl.Remove(context.Background(), pos[0]); err != nil {
		return err
	}
	c.note("Tunnel %s removed.", pos[0])
	return nil
}

func cmdRename(c *cli, cmd *command, args []string) error {
	ctl, pos, err := c.open(cmd, nil, args, 2, 2)
	if err != nil {
		return err
	}
	if err := ctl.Rename(context.Background(), pos[0], pos[1]); err != nil {
		return err
	}
	if pos[0] != pos[1] {
		c.note("Tunnel %s renamed to %s.", pos[0], pos[1])
	}
	return nil
}

func cmdSetPort(c *cli, cmd *command, args []string) error {
	pos, err := c.parse(cmd, nil, args, 2, 2)
	if err != nil {
		return err
	}
	port, err := parsePort(pos[1])
	if err != nil {
		return usagef(cmd, "%v", err)
	}
	ctl, _, err := c.controller()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if cfg, err := ctl.Show(ctx, pos[0]); err == nil && cfg.Interface.ListenPort == port {
		c.note("Tunnel %s already uses UDP port %d; nothing changed.", pos[0], port)
		return nil
	}
	if err := ctl.SetListenPort(ctx, pos[0], port); err != nil {
		return err
	}
	c.note("Tunnel %s now uses UDP port %d. Tell the other side: send a new invite, or they update the endpoint's port.", pos[0], port)
	return nil
}

func cmdUp(c *cli, cmd *command, args []string) error {
	ctl, name, err := oneName(c, cmd, args)
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	if err := ctl.Up(ctx, name); err != nil {
		return err
	}
	c.note("Tunnel %s is up. Watch it with: wgpunch status %s --watch", name, name)
	return nil
}

func cmdDown(c *cli, cmd *command, args []string) error {
	ctl, name, err := oneName(c, cmd, args)
	if err != nil {
		return err
	}
	if err := ctl.Down(context.Background(), name); err != nil {
		return err
	}
	c.note("Tunnel %s is down; it stays down after a restart (wgpunch up %s brings it back).", name, name)
	return nil
}

func cmdNATCheck(c *cli, cmd *command, args []string) error {
	fs := c.flags(cmd)
	var port portFlag
	var stun listFlag
	fs.Var(&port, "port", "")
	fs.Var(&stun, "stun", "")
	asJSON := fs.Bool("json", false, "")
	ctl, _, err := c.open(cmd, fs, args, 0, 0)
	if err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	rep, err := ctl.NATCheck(ctx, control.NATCheckRequest{Port: uint16(port), STUN: stun})
	if err != nil {
		return err
	}
	if *asJSON {
		return printJSON(c.stdout, rep)
	}
	printNAT(c.stdout, rep)
	return nil
}

func printNAT(w interface{ Write([]byte) (int, error) }, r *natcheck.Report) {
	pub := r.PublicEndpoint
	if pub == "" {
		pub = "unknown"
	}
	pub6 := r.IPv6.PublicEndpoint
	if pub6 == "" {
		pub6 = "unknown"
	}
	fmt.Fprintf(w, "Public endpoint: %s (from local port %d)\n", pub, r.LocalPort)
	fmt.Fprintf(w, "NAT mapping:     %s (port preserved: %v, CGNAT: %v, UDP blocked: %v)\n", r.Mapping, r.PortPreserved, r.CGNAT, r.UDPBlocked)
	fmt.Fprintf(w, "IPv6 endpoint:   %s (%s)\n", pub6, r.IPv6.Verdict)
	fmt.Fprintf(w, "Verdict:         %s — %s\n", r.Verdict, r.Message)
	printServers(w, "", r.Servers)
	printServers(w, "IPv6 ", r.IPv6.Servers)
}

// printServers lists what each STUN server answered; for IPv6 only the
// servers that have an IPv6 address.
func printServers(w interface{ Write([]byte) (int, error) }, family string, servers []natcheck.ServerResult) {
	for _, s := range servers {
		switch {
		case family != "" && s.Address == "":
		case s.Error != "":
			fmt.Fprintf(w, "  %s%-28s error: %s\n", family, s.Server, s.Error)
		default:
			fmt.Fprintf(w, "  %s%-28s saw %s (%d ms)\n", family, s.Server, s.Mapped, s.RTTMilli)
		}
	}
}

func cmdDaemon(c *cli, cmd *command, args []string) error {
	fs := c.flags(cmd)
	group := fs.String("group", "", "")
	noLAN := fs.Bool("no-lan", false, "")
	hostname := fs.String("hostname", "", "")
	debug := fs.Bool("debug", false, "")
	if _, err := c.parse(cmd, fs, args, 0, 0); err != nil {
		return err
	}
	ctx, cancel := signalContext()
	defer cancel()
	logf := func(format string, args ...any) {
		fmt.Fprintf(c.stderr, "wgpunch daemon: "+format+"\n", args...)
	}
	return ipc.RunDaemon(ctx, ipc.DaemonOptions{
		StateDir: c.stateDir, Socket: c.socket, Group: *group, NoLAN: *noLAN, Logf: logf,
		Hostname: *hostname, Debug: *debug || os.Getenv("WGPUNCH_DEBUG") != "",
	})
}

// looksLikeToken tells a pasted invite/reply from a tunnel name (at most
// 15 characters).
func looksLikeToken(s string) bool {
	return len(s) > 15 || strings.HasPrefix(strings.ToUpper(s), "WGP")
}

func nameOrOther(s string) string {
	if s == "" {
		return "the other computer"
	}
	return s
}
