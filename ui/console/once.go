package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/cognate-idp/cognate/tenant"
)

// Forms that must act once. Registering an application makes a client and
// its secret; rotating a secret voids the one before. A browser sends such
// a form again when the page that answered it is reloaded, and a double
// click sends it twice: each would register another application, or void
// the secret just shown. So these forms carry a one-time token, and only
// the post that claims it first acts; a later post of the same form is
// told that the form was sent already, with a link to what the first one
// did, and changes nothing. (Activate needs no token: the user's state
// tells a second post from a first, see activateUser.)

const (
	// onceField is the form's hidden input that holds its token.
	onceField = "once"
	// prefixOnce is the key prefix, in tenant.CollSessions, of a claimed
	// token. Its record expires with the longest a session lives: a form
	// is posted with its session's CSRF token, so never after that.
	prefixOnce = "console-once:"
)

// onceUse is a claimed token: what the first post made (a client's ID),
// once it made it.
type onceUse struct {
	Result    string    `json:"result,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// newOnceToken is the token of a form as it is shown.
func newOnceToken() string { return tenant.NewSecret(16) }

func onceKey(q *request, token string) string {
	return prefixOnce + tenant.HashSecret(q.sess.ID+":"+token)
}

// claimOnce claims the token of a posted form. first is true for the post
// that claimed it, which then acts; for any other, used is what the first
// one recorded. A form without a token is refused: it is no form the
// console showed (or one from before tokens).
func (c *Console) claimOnce(ctx context.Context, q *request, token string) (used onceUse, first bool, err error) {
	if token == "" {
		return onceUse{}, false, &pageError{status: http.StatusBadRequest, msg: "error.badForm", err: errors.New("form without its one-time token")}
	}
	key := onceKey(q, token)
	claim := onceUse{ExpiresAt: c.now().Add(c.MaxAge)}
	err = c.Service.Store.Update(ctx, func(tx tenant.Tx) error {
		first = false // the closure may run more than once
		prior, err := tenant.GetJSON[onceUse](tx, tenant.CollSessions, q.slug(), key)
		if err == nil {
			used = prior
			return nil
		}
		if !errors.Is(err, tenant.ErrNotFound) {
			return err
		}
		first = true
		return tenant.PutExpiring(tx, tenant.CollSessions, q.slug(), key, claim, claim.ExpiresAt)
	})
	if err != nil {
		return onceUse{}, false, fmt.Errorf("claim a form's one-time token: %w", err)
	}
	return used, first, nil
}

// settleOnce records what the post that claimed token made, for the posts
// of the same form after it to link to.
func (c *Console) settleOnce(ctx context.Context, q *request, token, result string) error {
	key := onceKey(q, token)
	use := onceUse{Result: result, ExpiresAt: c.now().Add(c.MaxAge)}
	err := c.Service.Store.Update(ctx, func(tx tenant.Tx) error {
		return tenant.PutExpiring(tx, tenant.CollSessions, q.slug(), key, use, use.ExpiresAt)
	})
	if err != nil {
		return fmt.Errorf("record what a form made: %w", err)
	}
	return nil
}

// releaseOnce gives token back after the post that claimed it made
// nothing (the service refused it): the same form may be sent again.
func (c *Console) releaseOnce(ctx context.Context, q *request, token string) error {
	key := onceKey(q, token)
	err := c.Service.Store.Update(ctx, func(tx tenant.Tx) error {
		return tx.Delete(tenant.CollSessions, q.slug(), key)
	})
	if err != nil {
		return fmt.Errorf("release a form's one-time token: %w", err)
	}
	return nil
}

// sentAlready is the answer to a form posted again after its first post:
// msg (a catalogue key) says what the first one did and that nothing was
// done again; the link leads to the client, or, while the first post is
// still at work, to the list.
func sentAlready(msg, clientID string) error {
	to := &link{clientsSection.list, clientsSection.name}
	if clientID != "" {
		to = &link{clientPath(clientID), "once.openClient"}
	}
	return &pageError{status: http.StatusConflict, heading: "once.heading", msg: msg, link: to,
		err: errors.New("form sent again")}
}
