package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/mail"

	"github.com/cognate-idp/cognate/tenant/adminapi"
)

// mailFrom splits smtp.from into its address and its name. The service
// puts each tenant's name in front of the address, so a welcome mail comes
// from "Acme BV <no-reply@example.com>"; the name of smtp.from is for the
// mail that comes from no tenant, the apex's list of a person's
// organizations ("Sign-in <no-reply@example.com>"). Without a relay
// (development) both are empty and the mail has no From of its own.
func mailFrom(cfg Config) (address, name string) {
	if cfg.SMTP.Host == "" || cfg.SMTP.From == "" {
		return "", ""
	}
	a, err := mail.ParseAddress(cfg.SMTP.From)
	if err != nil {
		return "", "" // Validate has refused this already
	}
	return a.Address, a.Name
}

// onboardingCommands are the `cognate user` verbs that send mail: activate,
// resend, reset-password, and unlock beside them. Each takes a username or
// a sub, as the other one-user verbs do.
//
// The same mail again within a minute (a command run twice, the console
// and the command line at once) is taken for a repeat and sends nothing,
// so that the mail just sent stays good: the server says so
// (adminapi.MailedUser's repeated), and so does the sentence printed.
func onboardingCommands() []adminCommand {
	// post calls one of the action endpoints and says what became of the
	// user in a sentence, then shows the user.
	post := func(action string, say func(u adminapi.MailedUser) string) func(ctx context.Context, c *apiClient, path, user string) (output, error) {
		return func(ctx context.Context, c *apiClient, path, _ string) (output, error) {
			var u adminapi.MailedUser
			raw, err := c.call(ctx, http.MethodPost, path+"/"+action, nil, &u)
			return output{raw: raw, text: func(w io.Writer) {
				fmt.Fprintln(w, say(u))
				fmt.Fprintln(w)
				showUser(w, u.User)
			}}, err
		}
	}
	invited := func(u adminapi.MailedUser) string {
		switch {
		case u.Repeated:
			return fmt.Sprintf("An invitation was sent to %s less than a minute ago; no new mail was sent, and its temporary password stays valid.\n"+
				"Run the command again after that minute to send a new temporary password.", u.Email)
		case u.Status != "FORCE_CHANGE_PASSWORD":
			return fmt.Sprintf("%s is enabled again; their password is unchanged.", u.Username)
		}
		return fmt.Sprintf("A welcome mail with a new temporary password is on its way to %s.\nThe old temporary password, if any, no longer works.", u.Email)
	}
	return []adminCommand{
		oneUserCommand("activate", "Activate a user: a temporary password goes to them by mail (a deactivated user with a password of their own is only enabled again). "+
			"Run again within a minute of an invitation, it sends nothing.",
			post("activate", invited)),
		oneUserCommand("resend", "Send a user who has not signed in yet a new temporary password; the old one stops working. "+
			"Within a minute of the last invitation it sends nothing.",
			post("resend-invitation", invited)),
		oneUserCommand("reset-password", "Reset a user's password: their sessions end and a code to choose a new one goes to them by mail. "+
			"Run again within a minute, it sends no second code.",
			post("reset-password", func(u adminapi.MailedUser) string {
				if u.Repeated {
					return fmt.Sprintf("A reset code was sent to %s less than a minute ago; no new code was sent, and that one stays valid.\n"+
						"Run the command again after that minute to send a new code.", u.Email)
				}
				return fmt.Sprintf("A reset code is on its way to %s; %s must choose a new password before signing in again.", u.Email, u.Username)
			})),
		oneUserCommand("unlock", "Release a user's sign-in lockout after too many failed attempts.",
			func(ctx context.Context, c *apiClient, path, user string) (output, error) {
				raw, err := c.call(ctx, http.MethodPost, path+"/unlock", nil, nil)
				return message(raw, "Unlocked %s: they can sign in again at once.", user), err
			}),
	}
}
