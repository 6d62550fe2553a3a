package legacy

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cognate-idp/cognate/tenant"
)

// The webhook variant, for legacy systems that are not Cognito: Cognate
// POSTs the event a Cognito user migration Lambda receives, and the
// receiver answers the way such a Lambda does, so a migration function
// written for Cognito can be put behind an HTTPS endpoint as it is.
//
// Requests are signed, so that the receiver can trust them (they come with
// a password to check): the header
//
//	X-Cognate-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
//
// The timestamp is signed with the body so that a receiver can refuse old
// requests (replays); docs/migration.md shows how to check it.
//
// The receiver answers 200 with the event, its response filled in
// (userAttributes required), to accept; 4xx (401, 403, 404…; not 408 or
// 429) to refuse, which the person reads as a wrong password and which
// counts towards the lockout; anything else means Cognate could not get an
// answer. A receiver whose signature check fails answers 503
// (docs/migration.md): a webhook secret that differs between the two
// sides then makes sign-in unavailable, and does not read as a wrong
// password for everyone, locking them out. That is asked of receivers
// rather than read into a 401 or 403, which receivers written to the
// earlier rule answer to a wrong password: taken as "unavailable", their
// refusals would no longer count towards the lockout, the one limit on
// guessing the passwords of users not yet migrated.

// Trigger sources of the migration event.
const (
	triggerAuthentication = "UserMigration_Authentication"
	triggerForgotPassword = "UserMigration_ForgotPassword"
)

// SignatureHeader carries the request's signature.
const SignatureHeader = "X-Cognate-Signature"

// maxWebhookAnswer bounds the answer read: an event with a profile is a few
// kilobytes.
const maxWebhookAnswer = 1 << 20

// migrationEvent is Cognito's user migration Lambda event (COGNITO.md §7).
type migrationEvent struct {
	Version       string            `json:"version"`
	TriggerSource string            `json:"triggerSource"`
	Region        string            `json:"region"`
	UserPoolID    string            `json:"userPoolId"`
	UserName      string            `json:"userName"`
	CallerContext callerContext     `json:"callerContext"`
	Request       migrationRequest  `json:"request"`
	Response      migrationResponse `json:"response"`
}

type callerContext struct {
	AWSSDKVersion string `json:"awsSdkVersion"`
	ClientID      string `json:"clientId"`
}

type migrationRequest struct {
	// Password is absent for UserMigration_ForgotPassword.
	Password       string            `json:"password,omitempty"`
	ValidationData map[string]string `json:"validationData"`
	ClientMetadata map[string]string `json:"clientMetadata"`
}

// migrationResponse is what the receiver fills in. Cognate reads
// userAttributes and finalUserStatus; it sends no welcome message
// (messageAction, desiredDeliveryMediums), allows shared email addresses
// (forceAliasCreation) and has no SMS (enableSMSMFA).
type migrationResponse struct {
	UserAttributes         attributeValues `json:"userAttributes,omitempty"`
	FinalUserStatus        string          `json:"finalUserStatus,omitempty"`
	MessageAction          string          `json:"messageAction,omitempty"`
	DesiredDeliveryMediums []string        `json:"desiredDeliveryMediums,omitempty"`
	ForceAliasCreation     *bool           `json:"forceAliasCreation,omitempty"`
	EnableSMSMFA           *bool           `json:"enableSMSMFA,omitempty"`
}

// attributeValues reads userAttributes leniently: Cognito wants strings,
// but a receiver written in a hurry sends "email_verified": true.
type attributeValues map[string]string

func (a *attributeValues) UnmarshalJSON(b []byte) error {
	var raw map[string]any
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*a = make(attributeValues, len(raw))
	for name, v := range raw {
		if s, ok := claimString(v); ok {
			(*a)[name] = s
		}
	}
	return nil
}

// sign returns the signature header value of body at time t (unix seconds).
func sign(secret string, t int64, body []byte) string {
	ts := strconv.FormatInt(t, 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// webhookCall sends one migration event and reads the answer.
func (d *Directory) webhookCall(ctx context.Context, tenantID string, pool tenant.LegacyPool, trigger, login, password string) (tenant.LegacyAccount, error) {
	// Checked again here, not only when the settings were saved: the
	// password must never travel in clear to another machine.
	u, err := url.Parse(pool.WebhookURL)
	if err != nil || !tenant.HTTPSOrLoopback(u) {
		return tenant.LegacyAccount{}, fmt.Errorf("%w: the webhook URL must be https", tenant.ErrLegacyUnavailable)
	}
	ev := migrationEvent{
		Version:       "1",
		TriggerSource: trigger,
		Region:        pool.Region,
		UserPoolID:    tenantID,
		UserName:      login,
		CallerContext: callerContext{AWSSDKVersion: "cognate"},
		Request:       migrationRequest{Password: password, ValidationData: map[string]string{}, ClientMetadata: map[string]string{}},
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return tenant.LegacyAccount{}, fmt.Errorf("%w: encode event: %w", tenant.ErrLegacyUnavailable, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, pool.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return tenant.LegacyAccount{}, fmt.Errorf("%w: %w", tenant.ErrLegacyUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set(SignatureHeader, sign(pool.WebhookSecret, d.now().Unix(), body))

	// A redirect would send the password on to wherever it points.
	client := *d.httpClient()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		// Not the *url.Error itself: it quotes the whole URL, which may
		// hold a key in its query.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return tenant.LegacyAccount{}, fmt.Errorf("%w: webhook %s: %w", tenant.ErrLegacyUnavailable, tenant.RedactURL(pool.WebhookURL), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode >= 400 && resp.StatusCode < 500 &&
		resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return tenant.LegacyAccount{}, fmt.Errorf("%w: webhook answered %s", tenant.ErrLegacyRefused, resp.Status)
	case resp.StatusCode == http.StatusServiceUnavailable:
		return tenant.LegacyAccount{}, fmt.Errorf("%w: webhook answered %s: if its signature check failed, is the webhook "+
			"secret the same on both sides, and are the two clocks less than five minutes apart?", tenant.ErrLegacyUnavailable, resp.Status)
	default:
		return tenant.LegacyAccount{}, fmt.Errorf("%w: webhook answered %s", tenant.ErrLegacyUnavailable, resp.Status)
	}

	var answer migrationEvent
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxWebhookAnswer+1))
	if err == nil && len(raw) > maxWebhookAnswer {
		err = errors.New("answer larger than 1 MiB")
	}
	if err == nil {
		err = json.Unmarshal(raw, &answer)
	}
	if err != nil {
		// The error of a JSON decode quotes no more than a character of
		// the answer; the answer itself is not logged.
		return tenant.LegacyAccount{}, fmt.Errorf("%w: webhook answer: %w", tenant.ErrLegacyUnavailable, err)
	}
	return accountFromMigration(trigger, login, answer.Response)
}

// accountFromMigration reads a migration answer as Cognito does: the user
// gets the attributes, and keeps the password just checked only when
// finalUserStatus is CONFIRMED; otherwise they must reset it.
func accountFromMigration(trigger, login string, r migrationResponse) (tenant.LegacyAccount, error) {
	if len(r.UserAttributes) == 0 {
		return tenant.LegacyAccount{}, fmt.Errorf("%w: the webhook's answer has no response.userAttributes", tenant.ErrLegacyUnavailable)
	}
	attrs := map[string]string(r.UserAttributes)
	// A username comes back only when the name typed was an alias (an
	// email address); otherwise the user keeps the name typed.
	username := attrs["username"]
	delete(attrs, "username")
	if username == "" {
		username = login
	}
	acct, err := accountFromAttributes(username, attrs)
	if err != nil {
		return tenant.LegacyAccount{}, fmt.Errorf("webhook answer: %w", err)
	}
	switch {
	case trigger == triggerForgotPassword:
		if acct.Email == "" || !acct.EmailVerified {
			return tenant.LegacyAccount{}, fmt.Errorf("%w: the webhook's user has no verified email address (email, email_verified \"true\")", tenant.ErrLegacyRefused)
		}
		acct.Status = tenant.StatusResetRequired
	case strings.EqualFold(r.FinalUserStatus, string(tenant.StatusConfirmed)):
		acct.Status = tenant.StatusConfirmed
	default:
		acct.Status = tenant.StatusResetRequired
	}
	return acct, nil
}
