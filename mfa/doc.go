// Package mfa holds the second-factor mechanisms that the authentication
// state machine (tenant/auth) and the pages call: TOTP enrolment and
// verification, recovery codes, WebAuthn registration and login (as a second
// factor and as a discoverable passkey), and the Sealer that encrypts small
// secrets at rest: TOTP secrets, and (for the tenant package) tenants'
// signing keys and legacy pool credentials.
//
// The package holds no storage and no session state. Every function takes
// what it needs (the stored secret, the last used TOTP step, the user's
// credentials, the ceremony begun earlier, the time) and returns what changed
// (the step to persist, the updated credential); persisting it, in the same
// transaction that completes the login, is the caller's job. Time and
// randomness are passed in, so tests move a clock instead of sleeping.
//
// It knows nothing of HTTP: WebAuthn responses arrive as the raw JSON the
// browser produced, and options leave as JSON for the page or the Cognito API
// to hand to the browser; the handler that reads a response bounds its size
// (a genuine one is a few KiB). Errors are sentinel values (ErrCodeInvalid,
// ErrWebAuthnFailed, …) for the front ends to translate; their text is for
// logs, never for a person.
package mfa
