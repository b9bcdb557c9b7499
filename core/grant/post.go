package grant

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"oidcctl/core"
	"oidcctl/core/clientauth"
	"oidcctl/core/discovery"
)

// post sends a form to one of the provider's endpoints other than the
// token endpoint (device authorization, revocation) with the client
// authenticated as at the token endpoint (RFC 8628 §3.1, RFC 7009 §2.1).
// A status other than 2xx is a *ProviderError. It returns the body of a
// successful answer.
func (c *Client) post(ctx context.Context, p core.Profile, d *discovery.Document, endpoint string, form url.Values, secrets []string) ([]byte, error) {
	auth, err := clientauth.Resolve(p, d, c.now())
	if err != nil {
		return nil, err
	}
	form = cloneValues(form)
	form.Set("client_id", p.ClientID)
	for k, vs := range auth.Params {
		form[k] = vs
	}
	endpoint = clientauth.Endpoint(p, d, endpoint)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if auth.Basic != nil {
		// RFC 6749 §2.3.1: both form-encoded, as x/oauth2 does.
		req.SetBasicAuth(auth.Basic[0], auth.Basic[1])
	}
	hc, done, err := c.httpClient(p)
	if err != nil {
		return nil, err
	}
	defer done()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, discovery.ForProfile(p.Name, discovery.Explain(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", endpoint, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, errorAnswer(resp, body, slices.Concat(secrets, auth.Secrets, []string{p.ClientSecret.Reveal()}))
	}
	return body, nil
}

// errorAnswer reads an RFC 6749 §5.2 error answer.
func errorAnswer(resp *http.Response, body []byte, secrets []string) *ProviderError {
	pe := &ProviderError{Status: resp.StatusCode}
	var e struct {
		Code        string `json:"error"`
		Description string `json:"error_description"`
		URI         string `json:"error_uri"`
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, _ := mime.ParseMediaType(ct); mt == "application/x-www-form-urlencoded" {
		if v, err := url.ParseQuery(string(body)); err == nil {
			e.Code, e.Description, e.URI = v.Get("error"), v.Get("error_description"), v.Get("error_uri")
		}
	} else {
		_ = json.Unmarshal(body, &e)
	}
	if e.Code == "" {
		pe.Detail = bodyDetail(ct, body, secrets)
		return pe
	}
	pe.Code = redact(e.Code, secrets, 64)
	pe.Description = redact(e.Description, secrets, 300)
	pe.URI = redact(e.URI, secrets, 200)
	return pe
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// Revoke revokes a token at the provider (RFC 7009). hint is
// "refresh_token", "access_token" or "". A provider without a
// revocation_endpoint gives an error wrapping ErrUnsupported. Revoking a
// refresh token usually ends its access tokens too.
func (c *Client) Revoke(ctx context.Context, p core.Profile, d *discovery.Document, token core.Secret, hint string) error {
	if d == nil || d.RevocationEndpoint == "" {
		return fmt.Errorf("revoke: the provider has no revocation_endpoint (RFC 7009): %w", ErrUnsupported)
	}
	if !token.IsSet() {
		return fmt.Errorf("revoke: no token")
	}
	form := url.Values{"token": {token.Reveal()}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	if _, err := c.post(ctx, p, d, d.RevocationEndpoint, form, []string{token.Reveal()}); err != nil {
		return fmt.Errorf("revoke: %w", err)
	}
	c.logger().Debug("grant: token revoked", "profile", p.Name, "hint", hint)
	return nil
}
