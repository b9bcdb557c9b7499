package grant

import (
	"fmt"
	"net/http"
	"time"

	"oidcctl/core"
	"oidcctl/core/dpop"
)

// dpopClient returns hc for an account without DPoP, and for one with
// DPoP a copy whose transport adds a proof of the account's key to every
// token request and answers use_dpop_nonce by sending the request once
// more with the provider's nonce (RFC 9449 section 5 and 8).
func dpopClient(hc *http.Client, a core.Account, now func() time.Time) (*http.Client, error) {
	if !a.DPoP {
		return hc, nil
	}
	key, err := AccountKey(a)
	if err != nil {
		return nil, err
	}
	dc := *hc
	dc.Transport = &dpop.Transport{Base: hc.Transport, Key: key, Now: now}
	return &dc, nil
}

// AccountKey returns the DPoP key of an account with DPoP on.
func AccountKey(a core.Account) (*dpop.Key, error) {
	if !a.DPoP {
		return nil, fmt.Errorf("account %s does not use DPoP", a.Name)
	}
	if !a.DPoPKey.IsSet() {
		return nil, fmt.Errorf("account %s uses DPoP but has no DPoP key: edit the account (oidcctl account edit %s --dpop) to make one", a.Name, a.Name)
	}
	k, err := dpop.ParseStored(a.DPoPKey.Reveal())
	if err != nil {
		return nil, fmt.Errorf("account %s: %w", a.Name, err)
	}
	return k, nil
}
