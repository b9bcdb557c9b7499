package rowform

import (
	"encoding/json"
	"fmt"
	"time"

	"oidcctl/core"
	"oidcctl/core/crypt"
	"oidcctl/db/internal/sealed"
)

// clientKeyDoc is the stored form of a core.ClientKey, inside the sealed
// client_keys value of profiles.settings.
type clientKeyDoc struct {
	ID          string `json:"id"`
	Algorithm   string `json:"alg"`
	PrivateKey  string `json:"private_key"`
	Certificate string `json:"certificate,omitempty"`
	CreatedAt   int64  `json:"created_at"` // Unix milliseconds
}

// clientKeysAD is the associated data the client keys of a profile are
// sealed with.
func clientKeysAD(profile string) string { return sealed.AD("profile", profile, "client_keys") }

// SealClientKeys puts p's client keys, private keys and all, into
// s.ClientKeys as one value sealed with key (nil when there are none).
func (s *ProfileSettings) SealClientKeys(key *crypt.Key, p *core.Profile) error {
	s.ClientKeys = nil
	if len(p.ClientKeys) == 0 {
		return nil
	}
	docs := make([]clientKeyDoc, len(p.ClientKeys))
	for i, k := range p.ClientKeys {
		docs[i] = clientKeyDoc{ID: k.ID, Algorithm: k.Algorithm, PrivateKey: k.PrivateKey.Reveal(),
			Certificate: k.Certificate, CreatedAt: MillisOrZero(k.CreatedAt)}
	}
	js, err := json.Marshal(docs)
	if err != nil {
		return fmt.Errorf("client keys: %w", err)
	}
	b, err := sealed.Seal(key, core.NewSecret(string(js)), clientKeysAD(p.Name))
	if err != nil {
		return err
	}
	s.ClientKeys = b
	return nil
}

// OpenClientKeys opens s.ClientKeys into p.ClientKeys (nil when there are
// none).
func (s *ProfileSettings) OpenClientKeys(key *crypt.Key, p *core.Profile) error {
	p.ClientKeys = nil
	if len(s.ClientKeys) == 0 {
		return nil
	}
	js, err := sealed.Open(key, s.ClientKeys, clientKeysAD(p.Name))
	if err != nil {
		return err
	}
	var docs []clientKeyDoc
	if err := json.Unmarshal([]byte(js.Reveal()), &docs); err != nil {
		return fmt.Errorf("profile %s: client keys: %w", p.Name, err)
	}
	for _, d := range docs {
		p.ClientKeys = append(p.ClientKeys, core.ClientKey{ID: d.ID, Algorithm: d.Algorithm,
			PrivateKey: core.NewSecret(d.PrivateKey), Certificate: d.Certificate, CreatedAt: millisTime(d.CreatedAt)})
	}
	return nil
}

// millisTime is the time of MillisOrZero's form: 0 is the zero time.
func millisTime(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
