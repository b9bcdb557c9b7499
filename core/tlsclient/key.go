package tlsclient

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/youmark/pkcs8"

	"oidcctl/core"
)

// pemBlocks decodes every PEM block of a file.
func pemBlocks(data []byte) ([]*pem.Block, error) {
	var blocks []*pem.Block
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		blocks = append(blocks, b)
	}
	if len(blocks) == 0 {
		return nil, errors.New("is not PEM (no \"-----BEGIN ...-----\" block found; a DER file must be converted with openssl first)")
	}
	return blocks, nil
}

// parseKey returns the first private key of a PEM file, decrypting it with
// password when it is encrypted. Errors never contain the password.
func parseKey(data []byte, password core.Secret) (crypto.Signer, error) {
	blocks, err := pemBlocks(data)
	if err != nil {
		return nil, err
	}
	var b *pem.Block
	for _, blk := range blocks {
		if strings.HasSuffix(blk.Type, "PRIVATE KEY") {
			b = blk
			break
		}
	}
	if b == nil {
		return nil, fmt.Errorf("holds no private key (found %s)", blockTypes(blocks))
	}

	der := b.Bytes
	encrypted := false
	switch {
	case b.Type == "ENCRYPTED PRIVATE KEY":
		if !password.IsSet() {
			return nil, ErrPasswordRequired
		}
		key, err := decryptPKCS8(der, []byte(password.Reveal()))
		if err != nil {
			return nil, err
		}
		return signer(key)
	case isLegacyEncrypted(b):
		if !password.IsSet() {
			return nil, ErrPasswordRequired
		}
		der, err = decryptLegacy(b, []byte(password.Reveal()))
		if errors.Is(err, x509.IncorrectPasswordError) {
			return nil, ErrWrongPassword
		}
		if err != nil {
			return nil, fmt.Errorf("cannot decrypt the legacy PEM encryption: %w", err)
		}
		encrypted = true
	}

	key, err := parseDER(der)
	if err != nil {
		if encrypted {
			// The padding check of legacy PEM encryption lets about one
			// wrong password in 256 through; the garbage then fails to
			// parse.
			return nil, ErrWrongPassword
		}
		return nil, fmt.Errorf("%s block is not a valid private key: %w", b.Type, err)
	}
	return signer(key)
}

// isLegacyEncrypted reports whether b uses the legacy PEM encryption of RFC
// 1423 ("Proc-Type: 4,ENCRYPTED", as written by openssl genrsa -aes256 and
// OpenSSL 1.0's rsa -des3).
func isLegacyEncrypted(b *pem.Block) bool {
	// Deprecated because the scheme is weak (no integrity check), but old
	// keys still use it, and reading one is all we do.
	//lint:ignore SA1019 needed to read legacy keys; see above.
	return x509.IsEncryptedPEMBlock(b) //nolint:staticcheck // SA1019: see above.
}

// decryptLegacy decrypts a legacy encrypted PEM block.
func decryptLegacy(b *pem.Block, password []byte) ([]byte, error) {
	//lint:ignore SA1019 needed to read legacy keys; see isLegacyEncrypted.
	return x509.DecryptPEMBlock(b, password) //nolint:staticcheck // SA1019: see isLegacyEncrypted.
}

// decryptPKCS8 decrypts a PKCS#8 EncryptedPrivateKeyInfo.
func decryptPKCS8(der, password []byte) (key any, err error) {
	defer func() {
		// The library's CBC decryption panics on ciphertext of a length
		// that is not a multiple of the block size.
		if r := recover(); r != nil {
			key, err = nil, errors.New("the ENCRYPTED PRIVATE KEY block is corrupt")
		}
	}()
	key, err = pkcs8.ParsePKCS8PrivateKey(der, password)
	if err != nil {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "incorrect password"):
			return nil, ErrWrongPassword
		case strings.Contains(msg, "only PBES2"), strings.Contains(msg, "only PKCS #5 v2.0"),
			strings.Contains(msg, "unsupported"), strings.Contains(msg, "unknown"):
			return nil, fmt.Errorf("this ENCRYPTED PRIVATE KEY format is not supported (%v); re-encrypt it with a current OpenSSL: openssl pkcs8 -topk8 -v2 aes-256-cbc", err)
		}
		return nil, fmt.Errorf("cannot decrypt the ENCRYPTED PRIVATE KEY block: %w", err)
	}
	return key, nil
}

// parseDER parses an unencrypted key as PKCS#1, PKCS#8 or SEC 1, as
// crypto/tls does.
func parseDER(der []byte) (any, error) {
	if key, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return key, nil
	}
	if key, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		return key, nil
	}
	key, err := x509.ParseECPrivateKey(der)
	if err != nil {
		return nil, errors.New("neither PKCS#1, PKCS#8 nor SEC 1")
	}
	return key, nil
}

func signer(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("a %T key cannot sign a TLS handshake", key)
}
