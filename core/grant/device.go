package grant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"oidcctl/core"
	"oidcctl/core/discovery"
)

// deviceGrant is the grant_type of the device access token request.
const deviceGrant = "urn:ietf:params:oauth:grant-type:device_code"

// DeviceFlow is one device authorization grant (RFC 8628): the person
// opens VerificationURI on any device, enters UserCode and logs in, while
// Wait polls the token endpoint.
//
// x/oauth2's DeviceAuth and DeviceAccessToken are not used: DeviceAuth
// does not authenticate a confidential client (golang/oauth2#685), and
// neither can repeat a parameter, which RFC 8707 resources need.
type DeviceFlow struct {
	UserCode        string
	VerificationURI string
	// VerificationURIComplete includes the user code; "" when the
	// provider sends none.
	VerificationURIComplete string
	// ExpiresAt is when the codes expire (by the Client's clock); zero
	// when the provider did not say.
	ExpiresAt time.Time
	// Interval is the wait between polls (5 s when the provider did not
	// say); slow_down answers lengthen it by 5 s.
	Interval time.Duration
	// OnPollFailed, when set, is called by Wait when a poll failed in a
	// way that may pass (the provider unreachable or answering 5xx) and
	// Wait tries again: failures is how many polls failed in a row, next
	// the wait before the next one.
	OnPollFailed func(failures int, next time.Duration, err error)

	c          *Client
	p          core.Profile
	d          *discovery.Document
	a          core.Account
	scopes     []string
	deviceCode string
}

// StartDevice asks the provider for a device code and user code for an
// account. A provider without a device_authorization_endpoint gives an
// error wrapping ErrUnsupported.
func (c *Client) StartDevice(ctx context.Context, p core.Profile, d *discovery.Document, a core.Account) (*DeviceFlow, error) {
	f, err := c.startDevice(ctx, p, d, a)
	if err != nil {
		return nil, fmt.Errorf("device authorization for %s: %w", a.Name, err)
	}
	return f, nil
}

func (c *Client) startDevice(ctx context.Context, p core.Profile, d *discovery.Document, a core.Account) (*DeviceFlow, error) {
	if d == nil || d.DeviceAuthorizationEndpoint == "" {
		return nil, fmt.Errorf("the provider has no device_authorization_endpoint (RFC 8628): %w", ErrUnsupported)
	}
	scopes := Scopes(p, a)
	form := url.Values{}
	if len(scopes) > 0 {
		form.Set("scope", strings.Join(scopes, " "))
	}
	if err := addResources(form, a); err != nil {
		return nil, err
	}
	now := c.now()
	body, err := c.post(ctx, p, d, d.DeviceAuthorizationEndpoint, form, nil)
	if err != nil {
		return nil, err
	}
	var r struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURL         string `json:"verification_url"` // Google's spelling
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               any    `json:"expires_in"`
		Interval                any    `json:"interval"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("the device authorization answer is not JSON: %v", err)
	}
	if r.DeviceCode == "" || r.UserCode == "" {
		return nil, fmt.Errorf("the device authorization answer has no device_code or user_code")
	}
	f := &DeviceFlow{
		UserCode:                r.UserCode,
		VerificationURI:         r.VerificationURI,
		VerificationURIComplete: r.VerificationURIComplete,
		Interval:                5 * time.Second,
		c:                       c, p: p, d: d, a: a,
		scopes:     scopes,
		deviceCode: r.DeviceCode,
	}
	if f.VerificationURI == "" {
		f.VerificationURI = r.VerificationURL
	}
	if secs, ok := seconds(r.ExpiresIn); ok && secs > 0 {
		f.ExpiresAt = now.Add(time.Duration(secs) * time.Second)
	}
	if secs, ok := seconds(r.Interval); ok && secs > 0 && secs < 3600 {
		f.Interval = time.Duration(secs) * time.Second
	}
	return f, nil
}

// Wait polls until the person approves or denies, the codes expire or ctx
// ends. A denial matches ErrAccessDenied and expired codes match ErrExpired
// (both the provider's expired_token and ExpiresAt passing by the
// Client's clock). A DeviceFlow is not safe for concurrent Waits.
func (f *DeviceFlow) Wait(ctx context.Context) (core.TokenSet, error) {
	set, err := f.wait(ctx)
	if err != nil {
		return core.TokenSet{}, fmt.Errorf("device authorization for %s: %w", f.a.Name, err)
	}
	return set, nil
}

func (f *DeviceFlow) wait(ctx context.Context) (core.TokenSet, error) {
	expired := func() error {
		if f.ExpiresAt.IsZero() || f.c.now().Before(f.ExpiresAt) {
			return nil
		}
		return fmt.Errorf("%w: code %s was valid until %s and nobody approved it; start again",
			ErrExpired, f.UserCode, f.ExpiresAt.Format(time.RFC3339))
	}
	if err := expired(); err != nil {
		return core.TokenSet{}, err
	}
	// stopped is the error once ctx ended: it names the cause, whether
	// the end came between two polls or during one (whose own error is
	// then only "context canceled").
	stopped := func() error {
		return fmt.Errorf("stopped waiting for the approval of code %s: %w", f.UserCode, context.Cause(ctx))
	}
	timer := time.NewTimer(f.Interval)
	defer timer.Stop()
	failures := 0 // polls in a row that failed on the way or at the provider
	for {
		select {
		case <-ctx.Done():
			return core.TokenSet{}, stopped()
		case <-timer.C:
			if ctx.Err() != nil { // both were ready: the select picked either
				return core.TokenSet{}, stopped()
			}
		}
		if err := expired(); err != nil {
			return core.TokenSet{}, err
		}
		set, err := f.c.token(ctx, f.p, f.d, f.a, tokenRequest{
			grant:   deviceGrant,
			params:  url.Values{"device_code": {f.deviceCode}},
			scopes:  f.scopes,
			noScope: true,
			secrets: []string{f.deviceCode},
		})
		if err != nil && ctx.Err() != nil {
			return core.TokenSet{}, stopped()
		}
		var pe *ProviderError
		if err != nil && transientPoll(ctx, err) {
			// One lost poll (a network hiccup, a provider restarting) must
			// not end a login the person may be finishing right now: try
			// again, backing off (RFC 8628 §3.5), a few times in a row.
			failures++
			if failures >= MaxPollFailures {
				return core.TokenSet{}, fmt.Errorf("%d polls in a row failed, the last: %w", failures, err)
			}
			wait := f.Interval << failures
			f.c.logger().Warn("grant: a device flow poll failed; trying again", "account", f.a.Name,
				"failures", failures, "next_poll_in", wait.String(), "err", err)
			if f.OnPollFailed != nil {
				f.OnPollFailed(failures, wait, err)
			}
			timer.Reset(wait)
			continue
		}
		failures = 0
		switch {
		case err == nil:
			return set, nil
		case !errors.As(err, &pe):
			return core.TokenSet{}, err
		case pe.Code == "authorization_pending":
		case pe.Code == "slow_down":
			f.Interval += 5 * time.Second
		case pe.Code == "access_denied", pe.Code == "expired_token":
			return core.TokenSet{}, fmt.Errorf("code %s: %w", f.UserCode, err)
		default:
			return core.TokenSet{}, err
		}
		timer.Reset(f.Interval)
	}
}

// MaxPollFailures is how many device flow polls in a row may fail on the
// way or at the provider before Wait gives up.
const MaxPollFailures = 3

// transientPoll says whether a poll's failure may go away by itself: the
// provider could not be reached or answered with a server error (5xx,
// server_error, temporarily_unavailable). Answers about the grant itself
// (denied, expired, invalid_client ...) are final.
func transientPoll(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var pe *ProviderError
	if errors.As(err, &pe) {
		return pe.Status >= 500 || pe.Code == "server_error" || pe.Code == "temporarily_unavailable"
	}
	var de *discovery.Error
	return errors.As(err, &de) && (de.Stage == discovery.StageConnect || de.Stage == discovery.StageDNS)
}
