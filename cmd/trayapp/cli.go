package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/wgpunch/wgpunch/internal/instance"
	"github.com/wgpunch/wgpunch/internal/version"
	"github.com/wgpunch/wgpunch/tunnel/conf"
	"github.com/wgpunch/wgpunch/tunnel/control"
	"github.com/wgpunch/wgpunch/tunnel/ipc"
	"github.com/wgpunch/wgpunch/tunnel/store"
)

// cli is one run of the command line.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// isTTY says whether a reader is a terminal someone types into
	// (isTerminal; tests replace it). in buffers stdin, made on first use,
	// so a token line and an answer read one after another are not lost.
	isTTY func(io.Reader) bool
	in    *bufio.Reader

	stateDir    string // "" means store.DefaultDir()
	stateDirSet bool
	socket      string

	// gui is the GUI's in-process Service with an engine (root without a
	// daemon), made once and shut down when the GUI ends.
	gui      *control.Service
	guiClose func()
}

func newCLI(stdin io.Reader, stdout, stderr io.Writer) *cli {
	return &cli{stdin: stdin, stdout: stdout, stderr: stderr, isTTY: isTerminal}
}

// input is stdin, buffered once for every reader of it.
func (c *cli) input() *bufio.Reader {
	if c.in == nil {
		c.in = bufio.NewReader(c.stdin)
	}
	return c.in
}

// terminal says whether stdin is a terminal someone types into.
func (c *cli) terminal() bool { return c.isTTY(c.stdin) }

// confirm asks question on a terminal and says whether the answer was y
// or yes; off a terminal it asks nothing and says true (scripts).
func (c *cli) confirm(question string) bool {
	if !c.terminal() {
		return true
	}
	fmt.Fprintf(c.stderr, "%s [y/N] ", question)
	ans, _ := c.input().ReadString('\n')
	a := strings.ToLower(strings.TrimSpace(ans))
	return a == "y" || a == "yes"
}

// usageError makes main print the command's usage and exit 2.
type usageError struct {
	cmd *command
	msg string
}

func (e *usageError) Error() string { return e.msg }

func usagef(cmd *command, format string, args ...any) error {
	return &usageError{cmd: cmd, msg: fmt.Sprintf(format, args...)}
}

// command is one CLI command.
type command struct {
	name    string
	args    string // synopsis after the name
	summary string
	help    string // details, flags
	run     func(c *cli, cmd *command, args []string) error
}

var commands []*command

func findCommand(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

const globalUsage = `Usage: wgpunch [--state-dir DIR] [--socket PATH] COMMAND [ARGS]
       wgpunch [--tray]         (no command: start the GUI)

WG Punch links two computers behind ordinary NATs with a direct WireGuard
tunnel. One side runs "invite", the other "accept"s the invite and sends the
reply back, the first side "accept"s the reply; then both run "up".

Global flags:
  --state-dir DIR   where tunnels are kept (default: /var/lib/wgpunch for
                    root, else ~/.config/wgpunch). Used directly when no
                    daemon serves it; see "Daemon" below.
  --socket PATH     the daemon's socket (default /run/wgpunch/wgpunch.sock)
  --tray            GUI only: start with just the tray icon, window hidden
                    (used at login; without a tray the window shows)
  --version         print the version
  -h, --help        this help; "wgpunch help COMMAND" for one command

Commands:
`

const globalUsageTail = `
Daemon: bringing tunnels up needs the privileged daemon (sudo systemctl start
wgpunch, or sudo wgpunch daemon). When it answers on --socket, every command
goes through it; only root and members of group "wgpunch" may change tunnels,
every local user may read status. Without a daemon, commands work on the
state directory directly and "up"/"down" explain how to start it. With an
explicit --state-dir that is not the daemon's, commands work on that
directory directly.
`

func (c *cli) printUsage(w io.Writer) {
	fmt.Fprint(w, globalUsage)
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", cmd.name, cmd.summary)
	}
	fmt.Fprint(w, globalUsageTail)
}

// printShortUsage is what follows a usage error: the synopsis and where
// the details are, not the whole help text.
func (c *cli) printShortUsage(w io.Writer, cmd *command) {
	fmt.Fprintf(w, "Usage: %s\nRun \"wgpunch help %s\" for details.\n", strings.TrimSpace("wgpunch "+cmd.name+" "+cmd.args), cmd.name)
}

// printCommandList follows an unknown command or global flag.
func (c *cli) printCommandList(w io.Writer) {
	names := make([]string, len(commands))
	for i, cmd := range commands {
		names[i] = cmd.name
	}
	fmt.Fprintf(w, "Commands: %s\nRun \"wgpunch help\" for the global flags, or \"wgpunch help COMMAND\" for one command.\n", strings.Join(names, ", "))
}

// flagErr rewrites the flag package's messages in the words and the
// double-dash spelling the help uses.
func flagErr(err error) string {
	msg := err.Error()
	switch {
	case strings.HasPrefix(msg, "flag provided but not defined: -"):
		return "unknown flag -" + strings.TrimPrefix(msg, "flag provided but not defined: ")
	case strings.HasPrefix(msg, "flag needs an argument: -"):
		return "flag -" + strings.TrimPrefix(msg, "flag needs an argument: ") + " needs a value"
	case strings.HasPrefix(msg, "invalid value "):
		// invalid value "x" for flag -port: <the Set error, which quotes x>
		if i := strings.Index(msg, " for flag -"); i > 0 {
			rest := msg[i+len(" for flag -"):]
			if name, why, ok := strings.Cut(rest, ": "); ok {
				return "--" + name + ": " + why
			}
		}
	}
	return msg
}

func (c *cli) printCommandUsage(w io.Writer, cmd *command) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n", strings.TrimSpace("wgpunch "+cmd.name+" "+cmd.args), cmd.summary)
	if cmd.help != "" {
		fmt.Fprintf(w, "\n%s", cmd.help)
	}
}

func (c *cli) main(args []string) int {
	fs := flag.NewFlagSet("wgpunch", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stateDir := fs.String("state-dir", "", "")
	socket := fs.String("socket", "", "")
	showVersion := fs.Bool("version", false, "")
	tray := fs.Bool("tray", false, "")
	window := fs.Bool("window", false, "") // internal: the tray process starts the window with it
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.printUsage(c.stdout)
			return 0
		}
		fmt.Fprintf(c.stderr, "wgpunch: %s\n", flagErr(err))
		c.printCommandList(c.stderr)
		return 2
	}
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "state-dir" {
			c.stateDirSet = true
		}
	})
	c.stateDir = *stateDir
	c.socket = *socket
	if c.socket == "" {
		c.socket = ipc.DefaultSocket()
	}
	if *showVersion {
		fmt.Fprintln(c.stdout, version.String())
		return 0
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return c.startGUI(*tray, *window, instance.Request{Action: instance.ActionShow})
	}
	if *window {
		fmt.Fprintf(c.stderr, "wgpunch: --window only applies to the GUI (no command), not to %q\n\n", rest[0])
		c.printUsage(c.stderr)
		return 2
	}
	if *tray {
		fmt.Fprintf(c.stderr, "wgpunch: --tray only applies to the GUI (no command), not to %q\n\n", rest[0])
		c.printUsage(c.stderr)
		return 2
	}
	if instance.IsURI(rest[0]) && len(rest) > 1 {
		// Windows passes a link alone ("%1"); anything after it was slipped in.
		fmt.Fprintf(c.stderr, "wgpunch: a wgpunch: link comes alone, without other arguments; nothing was done\n")
		return 2
	}
	if instance.IsURI(rest[0]) {
		// A wgpunch: link (a clicked notification on Windows): ask the
		// running app as a second start does, or start as usual.
		req, err := c.linkStart(rest[0])
		if err != nil {
			fmt.Fprintf(c.stderr, "wgpunch: %v\n", err)
			return 2
		}
		return c.startGUI(false, false, req)
	}
	name := rest[0]
	switch name {
	case "-help", "--help":
		name = "help"
	}
	cmd := findCommand(name)
	if cmd == nil {
		fmt.Fprintf(c.stderr, "wgpunch: unknown command %q\n", name)
		c.printCommandList(c.stderr)
		return 2
	}
	err := cmd.run(c, cmd, rest[1:])
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		c.printCommandUsage(c.stdout, cmd)
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) {
		fmt.Fprintf(c.stderr, "wgpunch %s: %s\n", cmd.name, ue.msg)
		c.printShortUsage(c.stderr, ue.cmd)
		return 2
	}
	fmt.Fprintf(c.stderr, "wgpunch %s: %v\n", cmd.name, err)
	return 1
}

// ---- connecting --------------------------------------------------------------

// connectOptions are the global flags as ipc.Connect wants them.
func (c *cli) connectOptions() ipc.ConnectOptions {
	return c.connectOptionsAs(ipc.RoleCLI)
}

// connectOptionsAs is connectOptions for a caller with another role in
// the state directory's lock (the tray app).
func (c *cli) connectOptionsAs(role string) ipc.ConnectOptions {
	return ipc.ConnectOptions{
		Role:        role,
		Socket:      c.socket,
		StateDir:    c.stateDir,
		StateDirSet: c.stateDirSet,
		LocalEngine: localEngine,
		Notef:       func(format string, args ...any) { fmt.Fprintf(c.stderr, format+"\n", args...) },
	}
}

// connect returns the daemon's Client when a daemon answers on the socket
// and serves our state directory; otherwise a local Service (ipc.Connect).
func (c *cli) connect() (control.Controller, error) {
	ctl, _, err := c.controller()
	return ctl, err
}

// guiConnect is connect for the GUI: without a daemon, as root, it runs the
// tunnels in-process (they go down when the GUI quits, and come back, like
// the daemon's, at the next start).
func (c *cli) guiConnect() (control.Controller, error) {
	if c.gui != nil {
		if cl, ok := ipc.DialServing(c.connectOptions()); ok {
			return cl, nil // a daemon appeared: it owns the tunnels now
		}
		return c.gui, nil
	}
	ctl, local, err := c.controllerAs(ipc.RoleTray)
	if err != nil || !local {
		return ctl, err
	}
	eng, reader, closeFn, err := guiEngine()
	if err != nil || eng == nil {
		// No engine here: the Service without one says how to start the daemon.
		return ctl, nil
	}
	st, err := store.Open(ctl.(*control.Service).StateDir())
	if err != nil {
		closeFn()
		return nil, err
	}
	st.SetRole(ipc.RoleTray)
	svc, err := control.NewService(control.ServiceOptions{Store: st, Engine: eng, Reader: reader})
	if err != nil {
		closeFn()
		return nil, err
	}
	if err := svc.RestoreUp(context.Background()); err != nil {
		fmt.Fprintf(c.stderr, "wgpunch: %v\n", err)
	}
	c.gui, c.guiClose = svc, closeFn
	return svc, nil
}

// startGUI runs the GUI; ask is what a running app is asked to show.
func (c *cli) startGUI(tray, window bool, ask instance.Request) int {
	args := []string{"--socket", c.socket}
	if c.stateDirSet {
		args = append(args, "--state-dir", c.stateDir)
	}
	code := runGUI(guiOptions{StateDir: c.stateDir, Socket: c.socket, Connect: c.guiConnect, Tray: tray,
		Window: window, Daemon: c.daemon, Args: args, Ask: ask})
	c.closeGUI()
	return code
}

// daemon is the daemon's Client when one answers and serves our state
// directory.
func (c *cli) daemon() (control.Controller, bool) {
	cl, ok := ipc.DialServing(c.connectOptionsAs(ipc.RoleTray))
	if !ok {
		return nil, false
	}
	return cl, true
}

// closeGUI takes the GUI's in-process tunnels down, keeping the list of
// those that were up so the next start (or the daemon) restores them.
func (c *cli) closeGUI() {
	if c.gui == nil {
		return
	}
	if err := c.gui.Shutdown(); err != nil {
		fmt.Fprintf(c.stderr, "wgpunch: %v\n", err)
	}
	c.guiClose()
	c.gui = nil
}

// controller is connect that also says whether the Controller is local.
func (c *cli) controller() (control.Controller, bool, error) {
	return c.controllerAs(ipc.RoleCLI)
}

// controllerAs is controller for a caller with role (ipc.Role*).
func (c *cli) controllerAs(role string) (control.Controller, bool, error) {
	ctl, err := ipc.Connect(c.connectOptionsAs(role))
	if err != nil {
		return nil, true, err
	}
	_, local := ctl.(*control.Service)
	return ctl, local, nil
}

// ---- flag helpers ------------------------------------------------------------

// listFlag collects repeated and comma-separated values.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, f := range strings.Split(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			*l = append(*l, f)
		}
	}
	return nil
}

// portFlag is a UDP port 1..65535.
type portFlag uint16

func (p *portFlag) String() string { return strconv.Itoa(int(*p)) }
func (p *portFlag) Set(v string) error {
	n, err := parsePort(v)
	if err != nil {
		return err
	}
	*p = portFlag(n)
	return nil
}

func parsePort(v string) (uint16, error) {
	n, err := conf.ParsePort(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("port must be a number from 1 to 65535, not %q", v)
	}
	return n, nil
}

// flags returns the command's flag set; the global --state-dir and
// --socket are accepted after the command name too.
func (c *cli) flags(cmd *command) *flag.FlagSet {
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Func("state-dir", "", func(v string) error {
		c.stateDir, c.stateDirSet = v, true
		return nil
	})
	fs.Func("socket", "", func(v string) error {
		c.socket = v
		return nil
	})
	return fs
}

// parseArgs parses flags anywhere among the arguments (flag stops at the
// first positional one) and returns the positional arguments. "--" ends
// flag parsing.
func parseArgs(cmd *command, fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef(cmd, "%s", flagErr(err))
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// Did the flag package stop at "--"?
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parse parses args with fs (nil: only the global flags) and checks that
// there are min..max positional arguments (max < 0: no limit).
func (c *cli) parse(cmd *command, fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	if fs == nil {
		fs = c.flags(cmd)
	}
	pos, err := parseArgs(cmd, fs, args)
	if err != nil {
		return nil, err
	}
	if err := wantArgs(cmd, pos, min, max); err != nil {
		return nil, err
	}
	return pos, nil
}

// open is parse, then the Controller (see controller).
func (c *cli) open(cmd *command, fs *flag.FlagSet, args []string, min, max int) (control.Controller, []string, error) {
	pos, err := c.parse(cmd, fs, args, min, max)
	if err != nil {
		return nil, nil, err
	}
	ctl, _, err := c.controller()
	if err != nil {
		return nil, nil, err
	}
	return ctl, pos, nil
}

func wantArgs(cmd *command, pos []string, min, max int) error {
	if len(pos) < min {
		return usagef(cmd, "missing argument: %s", missingArg(cmd, len(pos)))
	}
	if max >= 0 && len(pos) > max {
		return usagef(cmd, "too many arguments: %s", strings.Join(pos[max:], " "))
	}
	return nil
}

// missingArg names the first positional argument of cmd's synopsis after
// the n given ones ("NAME", "PORT"...).
func missingArg(cmd *command, n int) string {
	var names []string
	for _, f := range strings.Fields(cmd.args) {
		if strings.HasPrefix(f, "[") || strings.HasPrefix(f, "-") || strings.HasPrefix(f, "|") {
			break
		}
		names = append(names, f)
	}
	if n < len(names) {
		return strings.Join(names[n:], " ")
	}
	return "see the usage below"
}

func (c *cli) note(format string, args ...any) {
	fmt.Fprintf(c.stderr, format+"\n", args...)
}

func writeFile(path string, data []byte, perm os.FileMode) error {
	if path == "-" {
		_, err := os.Stdout.Write(data)
		return err
	}
	if err := store.WriteFileAtomic(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	// /dev/null is a character device too, but nobody types into it.
	if null, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, null) {
		return false
	}
	return true
}

// readToken reads an invite/reply from stdin: one line from a terminal,
// everything (up to 64 KiB) from a pipe.
func (c *cli) readToken() (string, error) {
	if c.terminal() {
		fmt.Fprint(c.stderr, "Paste the invite or reply line, then press Enter: ")
		line, err := c.input().ReadString('\n')
		if err != nil && line == "" {
			return "", fmt.Errorf("read the invite from the terminal: %w", err)
		}
		return line, nil
	}
	data, err := io.ReadAll(io.LimitReader(c.input(), 64<<10))
	if err != nil {
		return "", fmt.Errorf("read the invite from standard input: %w", err)
	}
	return string(data), nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func printWarnings(w io.Writer, ws []control.Warning) {
	for _, x := range ws {
		fmt.Fprintf(w, "warning: %s\n", x.Message)
		if x.FixPort != 0 {
			fmt.Fprintf(w, "         fix: use port %d (wgpunch set-port TUNNEL %d)\n", x.FixPort, x.FixPort)
		}
	}
}
