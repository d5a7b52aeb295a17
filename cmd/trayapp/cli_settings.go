package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/wgpunch/wgpunch/tunnel/control"
)

func cmdSettings(c *cli, cmd *command, args []string) error {
	fs := c.flags(cmd)
	var stun listFlag
	fs.Var(&stun, "stun", "")
	useDefault := fs.Bool("stun-default", false, "")
	asJSON := fs.Bool("json", false, "")
	if _, err := c.parse(cmd, fs, args, 0, 0); err != nil {
		return err
	}
	stunSet := false
	fs.Visit(func(f *flag.Flag) { stunSet = stunSet || f.Name == "stun" })
	switch {
	case stunSet && *useDefault:
		return usagef(cmd, "give either --stun or --stun-default, not both")
	case stunSet && len(stun) == 0:
		return usagef(cmd, "--stun needs at least one HOST:PORT; to use the built-in servers give --stun-default")
	}
	ctl, _, err := c.controller()
	if err != nil {
		return err
	}
	ctx := context.Background()
	if stunSet || *useDefault {
		if err := ctl.SetSettings(ctx, control.Settings{STUNServers: stun}); err != nil {
			return err
		}
	}
	set, err := ctl.Settings(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if set.STUNServers == nil {
			set.STUNServers = []string{} // "[]": the defaults are in use
		}
		return printJSON(c.stdout, set)
	}
	if stunSet || *useDefault {
		c.note("STUN servers saved; the next NAT check uses them.")
	}
	printSettings(c.stdout, set)
	return nil
}

func printSettings(w io.Writer, set *control.Settings) {
	if len(set.STUNServers) == 0 {
		fmt.Fprintln(w, "STUN servers (built-in defaults; change with: wgpunch settings --stun HOST:PORT,...):")
		for _, s := range set.DefaultSTUNServers {
			fmt.Fprintf(w, "  %s\n", s)
		}
		return
	}
	fmt.Fprintln(w, "STUN servers (chosen; back to the defaults with: wgpunch settings --stun-default):")
	for _, s := range set.STUNServers {
		fmt.Fprintf(w, "  %s\n", s)
	}
}
