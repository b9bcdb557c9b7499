package serve

import (
	"context"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// notify tells systemd a state (READY=1, STOPPING=1, STATUS=…) when
// NOTIFY_SOCKET says where; without it, nothing happens.
func notify(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("cannot notify systemd", "state", state, "err", err)
	}
}

// watchdog sends WATCHDOG=1 at half the interval systemd asks for
// (WATCHDOG_USEC, from WatchdogSec=), while the database answers: a
// server whose database hangs is better restarted.
func (s *Server) watchdog(ctx context.Context) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		s.log.Warn("systemd watchdog settings unreadable; not sending keep-alives", "err", err)
		return
	}
	if interval <= 0 {
		return
	}
	tick := time.NewTicker(interval / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		check, cancel := context.WithTimeout(ctx, interval/2)
		_, err := s.store.ConfigVersion(check)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("database does not answer; skipping the watchdog keep-alive", "err", err)
			}
			continue
		}
		notify(s.log, "WATCHDOG=1")
	}
}
