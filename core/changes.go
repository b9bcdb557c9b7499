package core

import "context"

// ChangeNotifier is what a store may offer beside ChangeCounter: a signal
// as soon as the configuration may have changed, whichever process or
// host made the change, so that serve need not wait for its next poll of
// ConfigVersion. It is optional (serve asks with a type assertion) and
// best-effort: a signal only says "read ConfigVersion now", and while the
// store cannot listen (its connection lost) no signal comes, so callers
// keep polling ConfigVersion as the fallback.
type ChangeNotifier interface {
	// ConfigChanges starts listening and returns a channel that receives
	// a value after each change of the configuration (several changes may
	// come as one value) and once after each (re)connection, when changes
	// may have been missed. The channel is closed when ctx ends.
	ConfigChanges(ctx context.Context) <-chan struct{}
}
