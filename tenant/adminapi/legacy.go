package adminapi

import "github.com/cognate-idp/cognate/tenant"

// LegacyPool is the user pool a tenant's users come from, for lazy
// migration (docs/migration.md). Kind "" means none.
//
// Secrets are write-only: a response shows SecretMask for a secret that is
// set and leaves out one that is not. In a change, a secret left out (or
// sent as SecretMask, as a client that read the tenant sends it back)
// keeps its value, "" removes it, anything else replaces it.
type LegacyPool struct {
	Kind                 string  `json:"kind"` // "", cognito or webhook
	Region               string  `json:"region,omitempty"`
	Endpoint             string  `json:"endpoint,omitempty"`
	UserPoolID           string  `json:"user_pool_id,omitempty"`
	ClientID             string  `json:"client_id,omitempty"`
	ClientSecret         *string `json:"client_secret,omitempty"`
	AuthFlow             string  `json:"auth_flow,omitempty"`
	AdminAccessKeyID     string  `json:"admin_access_key_id,omitempty"`
	AdminSecretAccessKey *string `json:"admin_secret_access_key,omitempty"`
	WebhookURL           string  `json:"webhook_url,omitempty"`
	WebhookSecret        *string `json:"webhook_secret,omitempty"`
}

// SecretMask stands for a secret that is set.
const SecretMask = "********"

func legacyOut(p tenant.LegacyPool) LegacyPool {
	mask := func(secret string) *string {
		if secret == "" {
			return nil
		}
		m := SecretMask
		return &m
	}
	return LegacyPool{
		Kind:                 p.Kind,
		Region:               p.Region,
		Endpoint:             p.Endpoint,
		UserPoolID:           p.UserPoolID,
		ClientID:             p.ClientID,
		ClientSecret:         mask(p.ClientSecret),
		AuthFlow:             p.AuthFlow,
		AdminAccessKeyID:     p.Admin.AccessKeyID,
		AdminSecretAccessKey: mask(p.Admin.SecretAccessKey),
		WebhookURL:           p.WebhookURL,
		WebhookSecret:        mask(p.WebhookSecret),
	}
}

func (l *LegacyPool) domain() *tenant.LegacyPoolChange {
	if l == nil {
		return nil
	}
	// secret reads a write-only field: the value, and whether to keep the
	// current one instead.
	secret := func(s *string) (string, bool) {
		if s == nil || *s == SecretMask {
			return "", true
		}
		return *s, false
	}
	c := &tenant.LegacyPoolChange{Pool: tenant.LegacyPool{
		Kind:       l.Kind,
		Region:     l.Region,
		Endpoint:   l.Endpoint,
		UserPoolID: l.UserPoolID,
		ClientID:   l.ClientID,
		AuthFlow:   l.AuthFlow,
		Admin:      tenant.AWSKeys{AccessKeyID: l.AdminAccessKeyID},
		WebhookURL: l.WebhookURL,
	}}
	c.Pool.ClientSecret, c.KeepClientSecret = secret(l.ClientSecret)
	c.Pool.Admin.SecretAccessKey, c.KeepAdminSecret = secret(l.AdminSecretAccessKey)
	c.Pool.WebhookSecret, c.KeepWebhookSecret = secret(l.WebhookSecret)
	return c
}
