package inspector

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"oidcctl/core"
	"oidcctl/core/tokens"
	"oidcctl/core/validate"
	"oidcctl/tui"
)

// source is where the token comes from: an account, or a pasted token.
type source struct {
	account string
	token   string
}

// pick is the profile to check against: one by name, every profile, or
// (both zero) the default.
type pick struct {
	profile string
	every   bool
}

// result is the page with the inspection of one token.
type result struct {
	id     tui.ID
	deps   deps
	st     tui.Styles
	src    source
	pick   pick
	busy   tui.Busy
	pager  tui.Pager
	seq    int
	cancel context.CancelFunc

	done    bool
	results []*validate.Result
	current int
	at      time.Time
	err     error

	width, height int
}

var resultKeys = struct{ Next, Prev, Again key.Binding }{
	Next:  tui.Keys("→/l", "next profile", "right", "l"),
	Prev:  tui.Keys("←/h", "previous profile", "left", "h"),
	Again: tui.Keys("r", "inspect again", "r"),
}

func newResult(d deps, src source, p pick) *result {
	return &result{id: tui.NewID(), deps: d, st: d.Styles, src: src, pick: p, busy: tui.NewBusy(d.Styles), pager: tui.NewPager(d.Styles)}
}

func (r *result) ID() tui.ID { return r.id }
func (r *result) Init() tea.Cmd {
	return r.run()
}

func (r *result) Title() string {
	if r.src.account != "" {
		return r.src.account
	}
	return "Pasted token"
}

// Close stops an inspection in flight when the page is left.
func (r *result) Close() {
	if r.cancel != nil {
		r.cancel()
	}
}

func (r *result) SetSize(w, h int) {
	resized := w != r.width
	r.width, r.height = w, h
	r.layout()
	if resized && r.done {
		r.pager.SetContent(r.render())
	}
}

// layout gives the pager what the verdict above it leaves.
func (r *result) layout() {
	r.pager.SetSize(r.width, max(2, r.height-lipgloss.Height(r.verdict())-1)) // and a blank row
}

func (r *result) KeyMap() help.KeyMap {
	if r.busy.Active() {
		return tui.KeyMap{}
	}
	var own []key.Binding
	if len(r.results) > 1 {
		own = append(own, resultKeys.Next, resultKeys.Prev)
	}
	own = append(own, resultKeys.Again)
	return tui.KeyMap{
		Short: append(own, r.pager.Bindings()...),
		Full:  [][]key.Binding{own, r.pager.FullBindings()},
	}
}

type inspectedMsg struct {
	tui.To
	seq     int
	results []*validate.Result
	at      time.Time
	err     error
}

func (r *result) run() tea.Cmd {
	r.seq++
	if r.cancel != nil {
		r.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	seq, to, d, src, p := r.seq, tui.To(r.id), r.deps, r.src, r.pick
	label := "Inspecting the token…"
	if src.account != "" {
		label = "Getting the token of " + src.account + " and inspecting it…"
	}
	return tea.Batch(r.busy.Start(label), func() tea.Msg {
		defer cancel()
		results, err := inspect(ctx, d, src, p)
		return inspectedMsg{To: to, seq: seq, results: results, at: d.Clock(), err: err}
	})
}

// inspect gets the token (an account's is obtained or refreshed first
// when needed, as `oidcctl token inspect --account` does) and inspects it
// against the chosen profiles.
func inspect(ctx context.Context, d deps, src source, p pick) ([]*validate.Result, error) {
	store := d.Store
	token, own := src.token, ""
	if src.account != "" {
		acc, err := store.Account(ctx, src.account)
		if err != nil {
			return nil, err
		}
		set, err := d.Tokens.Token(ctx, acc.Name)
		if errors.Is(err, tokens.ErrNeedsAuthorization) {
			return nil, fmt.Errorf("%s has no token yet and needs a person to log in: press o on it in Accounts (%w)", acc.Name, err)
		}
		if err != nil {
			return nil, err
		}
		kind := acc.TokenType
		if kind == "" {
			kind = core.TokenAccess
		}
		token = set.Token(kind).Reveal()
		if token == "" {
			return nil, fmt.Errorf("the provider sent %s no %s", acc.Name, kind)
		}
		own = acc.Profile
	}
	var profiles []core.Profile
	switch {
	case p.profile != "" || (!p.every && own != ""):
		name := p.profile
		if name == "" {
			name = own
		}
		prof, err := store.Profile(ctx, name)
		if err != nil {
			return nil, err
		}
		profiles = []core.Profile{prof}
	default:
		all, err := store.Profiles(ctx)
		if err != nil {
			return nil, err
		}
		if len(all) == 0 {
			return nil, errors.New("no profile to check the token against: add one in Profiles")
		}
		profiles = all
	}
	out := make([]*validate.Result, len(profiles))
	for i, prof := range profiles {
		out[i] = d.Validator.Inspect(ctx, prof, token)
	}
	return out, nil
}

func (r *result) Update(msg tea.Msg) (tui.Screen, tea.Cmd) {
	switch msg := msg.(type) {
	case inspectedMsg:
		if msg.seq != r.seq {
			return r, nil
		}
		r.busy.Stop()
		r.done, r.results, r.at, r.err = true, msg.results, msg.at, msg.err
		// The first profile that accepts the token, else the first.
		r.current = 0
		for i, res := range r.results {
			if res.Accepted() {
				r.current = i
				break
			}
		}
		r.show(true)
		return r, nil
	case tui.ActivatedMsg:
		return r, r.busy.Resume()
	case tea.KeyPressMsg:
		if r.busy.Active() {
			return r, nil
		}
		switch {
		case key.Matches(msg, resultKeys.Again):
			return r, r.run()
		case key.Matches(msg, resultKeys.Next) && len(r.results) > 1:
			r.current = (r.current + 1) % len(r.results)
			r.show(false)
		case key.Matches(msg, resultKeys.Prev) && len(r.results) > 1:
			r.current = (r.current + len(r.results) - 1) % len(r.results)
			r.show(false)
		default:
			r.pager.Update(msg)
		}
		return r, nil
	}
	return r, r.busy.Update(msg)
}

// show renders the current result; top scrolls back to the start.
func (r *result) show(top bool) {
	r.layout()
	r.pager.SetContent(r.render())
	if top {
		r.pager.GotoTop()
	}
}

func (r *result) View() string {
	if r.busy.Active() {
		return r.busy.View()
	}
	if !r.done {
		return ""
	}
	if r.err != nil {
		return r.st.Error.Render(strings.Join(tui.Wrap("✗ "+r.err.Error(), max(20, r.width)), "\n")) + "\n\n" +
			r.st.Muted.Render("r tries again, esc goes back.")
	}
	return r.verdict() + "\n\n" + r.pager.View()
}

// verdict is the verdict on the current profile: a mark, the word, the
// profile and the reason on the first line, then the sentence that says
// why, at most three lines of it.
func (r *result) verdict() string {
	if !r.done || r.err != nil || len(r.results) == 0 {
		return ""
	}
	res := r.results[r.current]
	tone, head := verdictOf(res)
	head += " by profile " + res.Profile
	if !res.Accepted() {
		head += fmt.Sprintf(": %s (HTTP %d)", res.Reason, res.Status())
	}
	if len(r.results) > 1 {
		head += fmt.Sprintf(" · %d/%d", r.current+1, len(r.results))
	}
	w := max(20, r.width)
	lines := []string{r.st.Tone(tone).Bold(true).Render(tui.Truncate(tui.Escape(head), w))}
	// Whole, wrapped at spaces: the reason and its fix (a command) must
	// read to the end; the pager below takes the rows left.
	for _, l := range tui.Wrap(tui.EscapeText(res.Message), w) {
		lines = append(lines, r.st.Tone(tone).Render(strings.TrimRight(l, " ")))
	}
	return strings.Join(lines, "\n")
}

// verdictOf is the mark and word of a result and its tone: accepted,
// refused, or not judged when oidcctl could not reach the provider or its
// own user store.
func verdictOf(res *validate.Result) (tui.Tone, string) {
	switch {
	case res.Accepted():
		return tui.ToneSuccess, "✓ ACCEPTED"
	case res.Status() >= 500:
		return tui.ToneWarning, "! NOT JUDGED"
	}
	return tui.ToneError, "✗ REFUSED"
}

// render writes the inspection of the current profile for the width.
func (r *result) render() string {
	if r.err != nil || len(r.results) == 0 {
		return ""
	}
	w := tui.NewText(r.st, max(30, r.width))
	res := r.results[r.current]
	if len(r.results) > 1 {
		w.Heading("Verdicts")
		for i, o := range r.results {
			tone, word := verdictOf(o)
			mark := "  "
			if i == r.current {
				mark = "▸ "
			}
			reason := "-"
			if !o.Accepted() {
				reason = string(o.Reason)
			}
			w.Line(mark + tui.PadRight(o.Profile, 14) + " " + r.st.Tone(tone).Render(tui.PadRight(word, 13)) + " " + reason)
		}
		w.Blank()
	}
	writeToken(w, r.st, res, r.at)
	w.Blank()
	w.Muted(fmt.Sprintf("Inspected %s (times are relative to then). Nothing was written.", tui.Stamp(r.at)))
	return w.String()
}
