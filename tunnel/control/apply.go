package control

import (
	"fmt"

	"github.com/wgpunch/wgpunch/tunnel/conf"
)

// save writes cfg over its saved file (after opts.BeforeSave, if set).
func (s *Service) save(cfg *conf.Config) error {
	if s.opts.BeforeSave != nil {
		if err := s.opts.BeforeSave(cfg); err != nil {
			return fmt.Errorf("save tunnel %q: %w", cfg.Name, err)
		}
	}
	return s.st.Save(cfg)
}

// saveThenApply replaces old, the saved config cfg was derived from, by
// cfg: on disk first, then — if apply and the tunnel is running — in the
// engine. A failed save changes nothing (the running tunnel is not
// touched); a failed apply restores the old file and re-applies old, so the
// file and the running tunnel never disagree. what names the change for
// the error ("add bob to running tunnel \"home\"").
func (s *Service) saveThenApply(old, cfg *conf.Config, apply bool, what string) (running bool, err error) {
	if err := s.save(cfg); err != nil {
		return false, fmt.Errorf("%w (nothing was changed)", err) // store errors name the tunnel
	}
	if _, up := s.ifaceOf(cfg.Name); !up || !apply {
		return up, nil
	}
	if _, err := s.eng.Up(cfg); err != nil {
		_, _ = s.eng.Up(old) // keep running what ran before, if it changed at all
		if rerr := s.save(old); rerr != nil {
			return true, fmt.Errorf("%s: %w; restoring the saved file failed too (%v), so the file holds the new settings while the tunnel runs the old ones: run wgpunch down %s, then wgpunch up %s",
				what, err, rerr, cfg.Name, cfg.Name)
		}
		return true, fmt.Errorf("%s: %w (nothing was changed)", what, err)
	}
	return true, nil
}
