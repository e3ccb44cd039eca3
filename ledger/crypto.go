package ledger

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Key is the AES-256 key that seals account numbers. Its String method
// never shows the key.
type Key struct {
	aead cipher.AEAD
	// fingerprint names the key without revealing it: the HMAC-SHA256 of
	// a fixed label under the key. The ledger keeps it to tell, before
	// anything is read, whether it is opened with the key that sealed it.
	fingerprint string
}

// fingerprintLabel is what a key's fingerprint is the HMAC of. Never
// change it: every ledger's stored fingerprint depends on it.
const fingerprintLabel = "carepay ledger key fingerprint v1"

// String redacts the key so that it cannot reach a log by accident.
func (Key) String() string { return "**redacted**" }

// ParseKey reads a 32-byte key written as 64 hex digits or as base64.
func ParseKey(text string) (*Key, error) {
	t := strings.TrimSpace(text)
	var raw []byte
	if b, err := hex.DecodeString(t); err == nil {
		raw = b
	} else if b, err := base64.StdEncoding.DecodeString(t); err == nil {
		raw = b
	}
	if len(raw) != 32 {
		return nil, errors.New("ledger key must be 32 bytes written as 64 hex digits or base64 (generate one with: openssl rand -hex 32)")
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("ledger key: %w", err)
	}
	mac := hmac.New(sha256.New, raw)
	mac.Write([]byte(fingerprintLabel))
	return &Key{aead: aead, fingerprint: hex.EncodeToString(mac.Sum(nil))}, nil
}

// Fingerprint names the key without revealing it (64 hex digits); its
// first 12 digits are enough to tell two keys apart in a message.
func (k *Key) Fingerprint() string { return k.fingerprint }

// short is the part of a fingerprint shown to the operator.
func short(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// seal encrypts an account number; the nonce is stored in front.
func (k *Key) seal(plain string) ([]byte, error) {
	if plain == "" {
		return nil, nil
	}
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("sealing account number: %w", err)
	}
	return k.aead.Seal(nonce, nonce, []byte(plain), []byte("account")), nil
}

// open decrypts what seal produced.
func (k *Key) open(sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	n := k.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("sealed account number is truncated")
	}
	plain, err := k.aead.Open(nil, sealed[:n], sealed[n:], []byte("account"))
	if err != nil {
		return "", errors.New("account number does not decrypt: wrong ledger key?")
	}
	return string(plain), nil
}
