// Package mail sends Cognate's mails: welcome mails with a temporary
// password, password-reset codes and "find your organization" links.
//
// It holds three parts that the rest of Cognate wires together:
//
//   - [Sender], with [SMTPSender] for production and [DevSink] for
//     development (it keeps the last mails in memory for the UI to show);
//   - [Templates], which render every mail as text and HTML, in English and
//     Dutch, from templates embedded in the binary that an operator may
//     override one by one;
//   - [Outbox], a worker that delivers queued mails with back-off, so that an
//     SMTP outage delays a mail but never loses it.
//
// The package is storage-agnostic and knows nothing of HTTP. The outbox queue
// lives in the caller's store (so that "create the user" and "queue the
// welcome mail" commit together); this package only declares the [Queue]
// methods it calls. It must not import the tenant domain, any storage
// backend, net/http or the ui package; a test enforces that.
//
// Mail bodies may carry a secret (a temporary password, a reset code), so no
// body is ever logged: [Message] implements [log/slog.LogValuer] and prints
// only its id, recipient count and domains, and subject, but not the subject
// of a sensitive message. For the same reason templates never put a secret
// in a subject or inside a URL, and [NewTemplates] refuses an override that
// does.
package mail
