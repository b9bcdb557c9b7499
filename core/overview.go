package core

import (
	"context"
	"time"
)

// AccountQuery selects accounts for an overview that shows a page of
// them at a time: those whose name, profile name or grant type contains
// Text, or whose state at Now (the words of TokenState.Status) contains
// it; every account when Text is empty. Every character of Text stands
// for itself (%, _ and \ are no wildcards). ASCII letters match in
// either case; other letters only as written (the SQL engines fold
// ASCII letters only; names are ASCII anyway). Now is compared to the
// millisecond, as the stores keep times.
//
// The state is judged from the stored columns without opening the
// tokens: an account whose tokens cannot be opened is selected and
// counted by what its columns say (TokenStatePage then reports it
// Damaged, as TokenState does).
type AccountQuery struct {
	Text string
	Now  time.Time
}

// AccountCounts is how many accounts a query selects: in all, per
// profile name and per state word (a profile or state with none is left
// out; StateDamaged is never counted, see AccountQuery).
type AccountCounts struct {
	Total    int
	Profiles map[string]int
	States   map[string]int
}

// OverviewStore reads accounts for a screen that shows a page of them,
// so that 100,000 accounts need not be read (or their tokens opened) to
// show twenty.
type OverviewStore interface {
	// CountAccounts counts the accounts q selects, without reading
	// their tokens.
	CountAccounts(ctx context.Context, q AccountQuery) (AccountCounts, error)
	// TokenStatePage returns the token states of the accounts q selects,
	// ordered by profile name and then account name (byte order),
	// leaving out the first offset and returning at most limit: none
	// when limit is not positive or offset is past the end; a negative
	// offset counts as 0. Only those accounts' tokens are opened.
	TokenStatePage(ctx context.Context, q AccountQuery, offset, limit int) ([]TokenState, error)
}
