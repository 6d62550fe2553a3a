package tenant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// This file is the one place that encodes domain records for the store and
// keeps the index collections in step with them. Everything takes a Tx, so
// callers compose several changes into one transaction.

// GetJSON reads the record under key and decodes it into a T.
func GetJSON[T any](tx Tx, c Collection, tenantID, key string) (T, error) {
	var v T
	raw, err := tx.Get(c, tenantID, key)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("decode %s %q: %w", c, key, err)
	}
	return v, nil
}

// PutJSON encodes v and stores it under key.
func PutJSON(tx Tx, c Collection, tenantID, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s %q: %w", c, key, err)
	}
	return tx.Put(c, tenantID, key, raw)
}

// ScanJSON decodes every record of c whose key starts with prefix and sorts
// after `after`, until visit returns false.
func ScanJSON[T any](tx Tx, c Collection, tenantID, prefix, after string, visit func(key string, v T) bool) error {
	var decodeErr error
	err := tx.Scan(c, tenantID, prefix, after, func(key string, raw []byte) bool {
		var v T
		if err := json.Unmarshal(raw, &v); err != nil {
			decodeErr = fmt.Errorf("decode %s %q: %w", c, key, err)
			return false
		}
		return visit(key, v)
	})
	if err != nil {
		return err
	}
	return decodeErr
}

// tenantSlugs lists the slug of every tenant, in slug order, reading
// keys only.
func tenantSlugs(tx Tx) ([]string, error) {
	var slugs []string
	err := tx.Scan(CollTenants, "", "", "", func(slug string, _ []byte) bool {
		slugs = append(slugs, slug)
		return true
	})
	return slugs, err
}

// GetTenant reads a tenant by slug.
func GetTenant(tx Tx, slug string) (Tenant, error) {
	t, err := GetJSON[Tenant](tx, CollTenants, "", slug)
	if err != nil {
		return t, fmt.Errorf("tenant %q: %w", slug, err)
	}
	t.Settings = t.Settings.WithDefaults()
	return t, nil
}

// PutTenant stores a tenant, and moves its entry in the index of
// organization names when the name is new or changed (as NameKey compares
// names).
func PutTenant(tx Tx, t Tenant) error {
	old, err := GetJSON[Tenant](tx, CollTenants, "", t.Slug)
	switch {
	case err == nil && NameKey(old.Name) == NameKey(t.Name):
		return PutJSON(tx, CollTenants, "", t.Slug, t)
	case err == nil:
		if err := tx.Delete(CollTenantNames, "", tenantNameEntry(old.Name, t.Slug)); err != nil {
			return err
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	if err := tx.Put(CollTenantNames, "", tenantNameEntry(t.Name, t.Slug), []byte(t.Slug)); err != nil {
		return err
	}
	return PutJSON(tx, CollTenants, "", t.Slug, t)
}

// deleteTenantRecord removes a tenant's own record and its entry in the
// index of organization names; DeleteTenant removes the rest.
func deleteTenantRecord(tx Tx, t Tenant) error {
	if err := tx.Delete(CollTenantNames, "", tenantNameEntry(t.Name, t.Slug)); err != nil {
		return err
	}
	return tx.Delete(CollTenants, "", t.Slug)
}

// GetUser reads a user by sub, with the groups it is in: a group renamed
// or deleted a moment ago is read as it is now even while its members are
// still being moved (group_move.go).
func GetUser(tx Tx, tenantID, sub string) (User, error) {
	moves, err := groupMoves(tx, tenantID)
	if err != nil {
		return User{}, err
	}
	return getMovedUser(tx, tenantID, sub, moves)
}

// getMovedUser is GetUser with the tenant's group moves read already, for
// a reader of many users that reads the moves once.
func getMovedUser(tx Tx, tenantID, sub string, moves []groupMove) (User, error) {
	u, err := getStoredUser(tx, tenantID, sub)
	if err != nil {
		return u, err
	}
	u.Groups = movedGroups(u.Groups, moves)
	return u, nil
}

// getStoredUser reads a user's record as stored, for the writers that keep
// the indexes in step with it.
func getStoredUser(tx Tx, tenantID, sub string) (User, error) {
	u, err := GetJSON[User](tx, CollUsers, tenantID, sub)
	if err != nil {
		return u, fmt.Errorf("user: %w", err)
	}
	return u, nil
}

// FoldKey is how usernames and emails are compared: Cognito matches
// usernames case-insensitively when the pool says so, and email always.
func FoldKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// emailIndexKey allows several users to share an email address (Cognito
// allows it unless email is an alias) while still finding them by prefix.
func emailIndexKey(email, sub string) string { return FoldKey(email) + "\x00" + sub }

// UserByUsername finds a user by username, case-insensitively.
func UserByUsername(tx Tx, tenantID, username string) (User, error) {
	sub, err := tx.Get(CollUsersByName, tenantID, FoldKey(username))
	if err != nil {
		return User{}, fmt.Errorf("user: %w", err)
	}
	return GetUser(tx, tenantID, string(sub))
}

// emailSubs visits, in sub order and after the sub `after`, the subs of
// the users whose email address is email, until visit returns false. It
// reads the email index only, never a user: many users may share an
// address (50,000 in one tenant is allowed), so a question about them
// stops as soon as it has its answer.
func emailSubs(tx Tx, tenantID, email, after string, visit func(sub string) bool) error {
	prefix := FoldKey(email) + "\x00"
	if after != "" {
		after = prefix + after
	}
	return tx.Scan(CollUsersByEmail, tenantID, prefix, after, func(_ string, sub []byte) bool {
		return visit(string(sub))
	})
}

// UsersByEmail returns a page of the users whose email address is email:
// in sub order, those whose sub sorts after `after`, at most limit of them.
// Next is set when more follow, which is known without reading the next
// user.
func UsersByEmail(tx Tx, tenantID, email, after string, limit int) (UserPage, error) {
	var page UserPage
	if limit < 1 {
		return page, fmt.Errorf("%w: a page of users holds at least one", ErrInvalid)
	}
	moves, err := groupMoves(tx, tenantID)
	if err != nil {
		return page, err
	}
	var readErr error
	err = emailSubs(tx, tenantID, email, after, func(sub string) bool {
		if len(page.Users) == limit {
			page.Next = page.Users[limit-1].Sub
			return false
		}
		u, err := getMovedUser(tx, tenantID, sub, moves)
		if err != nil {
			readErr = err
			return false
		}
		page.Users = append(page.Users, u)
		return true
	})
	if err == nil {
		err = readErr
	}
	return page, err
}

// UserByEmail finds the one user whose email address is email: an error
// wrapping ErrNotFound when no user has it, and when several do (sign-in
// cannot tell which is meant). Either way it reads at most two index
// entries and one user, so an address many users share costs no more to
// refuse than an unknown one, and the time taken does not tell them apart.
func UserByEmail(tx Tx, tenantID, email string) (User, error) {
	var subs []string
	err := emailSubs(tx, tenantID, email, "", func(sub string) bool {
		subs = append(subs, sub)
		return len(subs) < 2
	})
	if err != nil {
		return User{}, err
	}
	if len(subs) != 1 {
		return User{}, fmt.Errorf("user with email: %w", ErrNotFound)
	}
	return GetUser(tx, tenantID, subs[0])
}

// InsertUser stores a new user and its indexes; a taken username or sub is
// ErrAlreadyExists, a username or email address another user signs in
// with ErrSignInNameTaken (checkSignInNames).
func InsertUser(tx Tx, tenantID string, u User) error {
	if _, err := tx.Get(CollUsers, tenantID, u.Sub); err == nil {
		return fmt.Errorf("user sub %q: %w", u.Sub, ErrAlreadyExists)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if _, err := tx.Get(CollUsersByName, tenantID, FoldKey(u.Username)); err == nil {
		return fmt.Errorf("username %q: %w", u.Username, ErrAlreadyExists)
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := checkSignInNames(tx, tenantID, u, true); err != nil {
		return err
	}
	if err := tx.Put(CollUsersByName, tenantID, FoldKey(u.Username), []byte(u.Sub)); err != nil {
		return err
	}
	if u.Email != "" {
		if err := tx.Put(CollUsersByEmail, tenantID, emailIndexKey(u.Email, u.Sub), []byte(u.Sub)); err != nil {
			return err
		}
	}
	if err := syncGroupIndex(tx, tenantID, u.Sub, nil, u.Groups); err != nil {
		return err
	}
	if err := syncCredentialIndex(tx, tenantID, u.Sub, nil, u.MFA.WebAuthn); err != nil {
		return err
	}
	return PutJSON(tx, CollUsers, tenantID, u.Sub, u)
}

// UpdateUser stores a changed user, moving its email index when the address
// changed, and its group and WebAuthn credential indexes with the user. The
// username is immutable, as in Cognito. A new address that is another
// user's username is ErrSignInNameTaken (checkSignInNames).
func UpdateUser(tx Tx, tenantID string, u User) error {
	old, err := getStoredUser(tx, tenantID, u.Sub) // as the indexes have it
	if err != nil {
		return err
	}
	if FoldKey(old.Username) != FoldKey(u.Username) {
		return fmt.Errorf("username cannot change: %w", ErrInvalid)
	}
	if FoldKey(old.Email) != FoldKey(u.Email) {
		if err := checkSignInNames(tx, tenantID, u, false); err != nil {
			return err
		}
		if old.Email != "" {
			if err := tx.Delete(CollUsersByEmail, tenantID, emailIndexKey(old.Email, u.Sub)); err != nil {
				return err
			}
		}
		if u.Email != "" {
			if err := tx.Put(CollUsersByEmail, tenantID, emailIndexKey(u.Email, u.Sub), []byte(u.Sub)); err != nil {
				return err
			}
		}
	}
	if err := syncGroupIndex(tx, tenantID, u.Sub, old.Groups, u.Groups); err != nil {
		return err
	}
	// A credential ID another user has refuses the whole change
	// (ErrCredentialInUse).
	if err := syncCredentialIndex(tx, tenantID, u.Sub, old.MFA.WebAuthn, u.MFA.WebAuthn); err != nil {
		return err
	}
	return PutJSON(tx, CollUsers, tenantID, u.Sub, u)
}

// checkSignInNames keeps the names people sign in with apart: FindUser
// looks a name up as a username first and as an email address after, so a
// username that is another user's email address would take that user's
// sign-in by email, and an email address that is another user's username
// could never sign in. Both are refused, compared as the indexes compare
// them (FoldKey); a user whose username is its own email address is fine.
// newName checks u's username (a new user: usernames never change), and
// u's email address is checked when it has one. Only these two writers
// call it, so every front end (the admin API, the console, the import,
// lazy migration) gets the rule; users written before it are left as they
// are until their address changes.
func checkSignInNames(tx Tx, tenantID string, u User, newName bool) error {
	// An email address has an @, so a username without one is no address.
	if newName && strings.Contains(u.Username, "@") {
		var other bool
		err := emailSubs(tx, tenantID, u.Username, "", func(sub string) bool {
			other = sub != u.Sub
			return !other
		})
		if err != nil {
			return err
		}
		if other {
			return invalid(CodeUsernameIsEmail, u.Username)
		}
	}
	if u.Email == "" {
		return nil
	}
	sub, err := tx.Get(CollUsersByName, tenantID, FoldKey(u.Email))
	switch {
	case err == nil && string(sub) != u.Sub:
		return invalid(CodeEmailIsUsername, u.Email)
	case err != nil && !errors.Is(err, ErrNotFound):
		return err
	}
	return nil
}

// DeleteUser removes a user, its indexes and its mail in the outbox.
func DeleteUser(tx Tx, tenantID, sub string) error {
	u, err := getStoredUser(tx, tenantID, sub) // as the indexes have it
	if err != nil {
		return err
	}
	if err := tx.Delete(CollUsersByName, tenantID, FoldKey(u.Username)); err != nil {
		return err
	}
	if u.Email != "" {
		if err := tx.Delete(CollUsersByEmail, tenantID, emailIndexKey(u.Email, u.Sub)); err != nil {
			return err
		}
	}
	if err := syncGroupIndex(tx, tenantID, u.Sub, u.Groups, nil); err != nil {
		return err
	}
	if err := syncCredentialIndex(tx, tenantID, u.Sub, u.MFA.WebAuthn, nil); err != nil {
		return err
	}
	if err := deleteOwnedMail(tx, tenantID, u.Sub); err != nil {
		return err
	}
	return tx.Delete(CollUsers, tenantID, sub)
}

// GetClient reads a client.
func GetClient(tx Tx, tenantID, id string) (Client, error) {
	c, err := GetJSON[Client](tx, CollClients, tenantID, id)
	if err != nil {
		return c, fmt.Errorf("client: %w", err)
	}
	return c, nil
}

// PutClient stores a client.
func PutClient(tx Tx, tenantID string, c Client) error {
	return PutJSON(tx, CollClients, tenantID, c.ID, c)
}

// SigningKeys returns a tenant's keys in key-ID order.
func SigningKeys(tx Tx, tenantID string) ([]SigningKey, error) {
	var keys []SigningKey
	err := ScanJSON(tx, CollKeys, tenantID, "", "", func(_ string, k SigningKey) bool {
		keys = append(keys, k)
		return true
	})
	return keys, err
}

// PushHistory adds the password hash being replaced to a user's history and
// keeps the newest size entries: the policy's HistorySize refuses those as
// a new password (PreviousPasswords). With no history kept (size 0) it
// forgets them all. A user who had no password (replaced empty) replaces
// none, and keeps the history they have: losing it would let the next
// password be one of the old ones.
func PushHistory(history []string, replaced string, size int) []string {
	if size <= 0 {
		return nil
	}
	if replaced == "" {
		return history
	}
	history = append(history, replaced)
	if len(history) > size {
		history = history[len(history)-size:]
	}
	return history
}

// indexUsers builds an index collection c from the users of every tenant
// that has no marker in c yet, and returns how many tenants it indexed: the
// start-up pass of an index that older versions did not keep. index is
// called once per user (in sub order) to write the user's entries; a
// tenant is marked when its last user is done, so a tenant indexed before
// is skipped at once, and one whose pass was cut short is done again from
// the start. Users are read a page at a time, one transaction each, so a
// large tenant never holds the store's writer long. index may run more
// than once for a user (a transaction may run again), so it must only
// read and write through tx.
func indexUsers(ctx context.Context, store Store, c Collection, marker string, index func(tx Tx, slug string, u User) error) (int, error) {
	slugs, err := tenantIDs(ctx, store)
	if err != nil {
		return 0, err
	}
	indexed := 0
	for _, slug := range slugs {
		var done bool
		err := store.View(ctx, func(tx Tx) error {
			_, err := tx.Get(c, slug, marker)
			done = err == nil
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			return err
		})
		if err != nil {
			return indexed, err
		}
		if done {
			continue
		}
		for after := ""; !done; {
			if after, done, err = indexUserPage(ctx, store, c, marker, slug, after, index); err != nil {
				return indexed, fmt.Errorf("build the %s index of %q: %w", c, slug, err)
			}
		}
		indexed++
	}
	return indexed, nil
}

// indexUserPage indexes one page of a tenant's users after the sub
// `after`, and marks the tenant indexed after the last page.
func indexUserPage(ctx context.Context, store Store, c Collection, marker, slug, after string, index func(tx Tx, slug string, u User) error) (next string, done bool, err error) {
	const perTx = 2000
	err = store.Update(ctx, func(tx Tx) error {
		var users []User
		err := ScanJSON(tx, CollUsers, slug, "", after, func(_ string, u User) bool {
			users = append(users, u)
			return len(users) < perTx
		})
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := index(tx, slug, u); err != nil {
				return err
			}
		}
		next, done = "", len(users) < perTx
		if done {
			return tx.Put(c, slug, marker, []byte{})
		}
		next = users[len(users)-1].Sub
		return nil
	})
	return next, done, err
}
