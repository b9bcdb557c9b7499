package core

import "log/slog"

// Secret holds a client secret, password or refresh token in memory. It
// prints, logs and marshals as "set" or "not set", so that it cannot leak
// through fmt, slog or JSON by accident; Reveal is the one way to read it.
type Secret struct{ value string }

// NewSecret wraps a plaintext secret.
func NewSecret(plain string) Secret { return Secret{value: plain} }

// Reveal returns the plaintext. Call it only where the secret is sent to
// the provider or sealed for storage.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s.value != "" }

// String returns "set" or "not set", never the secret.
func (s Secret) String() string {
	if s.IsSet() {
		return "set"
	}
	return "not set"
}

// GoString keeps %#v from printing the secret.
func (s Secret) GoString() string { return "core.Secret(" + s.String() + ")" }

// LogValue keeps slog from printing the secret.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders from printing the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
