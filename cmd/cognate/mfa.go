package main

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"

	"github.com/cognate-idp/cognate/mfa"
	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// The HKDF infos of the sealing keys derived from the server key, one per
// kind of secret. The server key also encrypts authorization codes (the
// provider's CryptoKey); a key of its own for each use keeps one cipher's
// output from ever meeting the same key under another, and a value sealed
// as one kind of secret from opening as another.
const (
	// sealKeyInfo is TOTP secrets' (its name predates the others).
	sealKeyInfo = "cognate mfa seal v1"
	// signingKeySealInfo is tenants' token-signing private keys'.
	signingKeySealInfo = "cognate signing-key seal v1"
	// legacySealInfo is tenants' legacy pool credentials'.
	legacySealInfo = "cognate legacy-pool seal v1"
)

// derivedSealer makes the Sealer of the secrets info names, under a key
// derived from the server key, and opening what a key derived the same way
// from the previous server key sealed.
func derivedSealer(s serverSecrets, info string) (*mfa.Sealer, error) {
	derive := func(serverKey []byte) ([]byte, error) {
		return hkdf.Key(sha256.New, serverKey, nil, info, mfa.KeySize)
	}
	current, err := derive(s.secretKey)
	if err != nil {
		return nil, fmt.Errorf("derive the sealing key %q: %w", info, err)
	}
	var previous [][]byte
	if s.previousKey != nil {
		key, err := derive(s.previousKey)
		if err != nil {
			return nil, fmt.Errorf("derive the previous sealing key %q: %w", info, err)
		}
		previous = append(previous, key)
	}
	sealer, err := mfa.NewSealer(current, previous...)
	if err != nil {
		return nil, fmt.Errorf("server keys: %w", err)
	}
	return sealer, nil
}

// mfaCommands are the `cognate user` verbs about second factors: mfa shows
// them, reset-mfa removes them. Each takes a username or a sub.
func mfaCommands() []adminCommand {
	return []adminCommand{
		oneUserCommand("mfa", "Show a user's second factors; a security key flagged as possibly cloned is marked.",
			func(ctx context.Context, c *apiClient, path, user string) (output, error) {
				var st adminapi.MFAStatus
				raw, err := c.call(ctx, http.MethodGet, path+"/mfa", nil, &st)
				return output{raw: raw, text: func(w io.Writer) { showMFA(w, user, st) }}, err
			}),
		oneUserCommand("reset-mfa", "Remove a user's second factors and recovery codes (a lost phone, a cloned key); their sessions end.",
			func(ctx context.Context, c *apiClient, path, user string) (output, error) {
				raw, err := c.call(ctx, http.MethodPost, path+"/reset-mfa", nil, nil)
				return message(raw, "Second factors of %s removed and their sessions ended. Where the tenant requires MFA, their next sign-in sets up a new one.", user), err
			}),
	}
}

func showMFA(w io.Writer, user string, st adminapi.MFAStatus) {
	if len(st.Factors) == 0 {
		fmt.Fprintf(w, "%s has no second factor.\n", user)
		return
	}
	var rows [][]string
	for _, f := range st.Factors {
		kind := "authenticator app"
		switch {
		case f.Kind == "WEBAUTHN" && f.Passkey:
			kind = "passkey"
		case f.Kind == "WEBAUTHN":
			kind = "security key"
		}
		if f.Synced {
			kind += " (synced)"
		}
		warning := ""
		if f.CloneWarning {
			warning = "POSSIBLY CLONED: refused until reset-mfa"
		}
		rows = append(rows, []string{kind, f.Name, formatTime(f.CreatedAt), formatTime(f.LastUsedAt), warning})
	}
	printTable(w, []string{"KIND", "NAME", "ADDED", "LAST USED", "WARNING"}, rows)
	fmt.Fprintf(w, "\nUnused recovery codes: %d\n", st.RecoveryCodesLeft)
}
