package tenant

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	netmail "net/mail"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// NewUser is the input of CreateUser.
type NewUser struct {
	Username      string
	Email         string
	EmailVerified bool
	Attributes    map[string]string
	Groups        []string
	// Password, when set, is stored as the user's password. Temporary makes
	// it a temporary password that must be changed at the first sign-in.
	Password  string
	Temporary bool
	// Invite activates the user as they are created, as ActivateUser
	// would: a temporary password of its own making, mailed in the welcome
	// mail queued in the same transaction, so that no user is ever left
	// behind who was meant to be invited and was not. It needs Email, and
	// no Password.
	Invite bool
	// Sub keeps an existing subject (imports); empty means a new UUID.
	Sub string
}

// LogValue keeps the password out of logs whatever logs a new user.
func (in NewUser) LogValue() slog.Value {
	return slog.GroupValue(slog.String("username", in.Username), slog.Bool("invite", in.Invite))
}

// errVerifiedWithoutEmail refuses a verified email address that is not
// there, on creation as on a change (checkEmailVerified).
var errVerifiedWithoutEmail = fmt.Errorf("%w: a user without an email address cannot have a verified one", ErrInvalid)

// CreateUser adds a user to a tenant's pool. Without a password the user is
// not activated (UNCONFIRMED) and cannot sign in.
func (s *Service) CreateUser(ctx context.Context, tenantID string, in NewUser) (User, error) {
	if err := in.Validate(); err != nil {
		return User{}, err
	}
	u := newUserRecord(in, s.Time())
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return User{}, err
	}
	inv, err := s.firstPassword(ctx, t, &u, in)
	if err != nil {
		return User{}, err
	}
	created, err := s.insertNewUser(ctx, tenantID, u, in.Invite, inv)
	if err != nil {
		return User{}, err
	}
	if in.Invite {
		s.mailQueued()
	}
	return created, nil
}

// Validate checks everything of a new user that needs no tenant, in the
// order CreateUser gives its refusals, and takes the address as
// normalizeEmail keeps it; the command line checks a new user with it
// before anything is sent.
func (in *NewUser) Validate() error {
	if err := ValidateUsername(in.Username); err != nil {
		return err
	}
	var err error
	if in.Email, err = normalizeEmail(in.Email); err != nil {
		return err
	}
	if err := checkEmailVerified(in.Email, in.EmailVerified); err != nil {
		return err
	}
	if err := ValidateAttributes(in.Attributes); err != nil {
		return err
	}
	if in.Sub != "" {
		if err := ValidateSub(in.Sub); err != nil {
			return err
		}
	}
	if in.Invite && in.Password != "" {
		return fmt.Errorf("%w: an invitation makes its own temporary password; give no password", ErrInvalid)
	}
	return nil
}

// newUserRecord is the user in asks for, as created at now: enabled, not
// activated (UNCONFIRMED) until firstPassword says otherwise, with a new
// sub unless in keeps one.
func newUserRecord(in NewUser, now time.Time) User {
	u := User{
		Sub:           in.Sub,
		Username:      in.Username,
		Email:         in.Email,
		EmailVerified: in.EmailVerified,
		Attributes:    in.Attributes,
		Groups:        uniqueGroups(in.Groups),
		Status:        StatusUnconfirmed,
		Enabled:       true,
		CreatedAt:     now,
		UpdatedAt:     now,
	}
	if u.Sub == "" {
		u.Sub = NewUUID()
	}
	return u
}

// firstPassword prepares what in asks for as u's first password, before
// the transaction that creates u, since hashing takes a while: an
// invitation (returned, for insertNewUser to write), or the password given,
// set on u as a temporary one or as the user's own. Without either, u
// stays UNCONFIRMED.
func (s *Service) firstPassword(ctx context.Context, t Tenant, u *User, in NewUser) (invitation, error) {
	switch {
	case in.Invite:
		// Created not activated, then activated in the same transaction,
		// as ActivateUser would.
		return s.prepareInvitation(ctx, t, *u, false)
	case in.Password != "":
		hash, err := s.hashNewPassword(ctx, t, in.Password, nil)
		if err != nil {
			return invitation{}, err
		}
		if in.Temporary {
			setTemporaryPassword(u, t, hash, u.CreatedAt)
		} else {
			u.SetPassword(hash, u.CreatedAt)
			u.Status = StatusConfirmed
		}
	}
	return invitation{}, nil
}

// hashNewPassword checks pw against t's password policy and against
// history, the user's previous password hashes (none for an administrator's
// or a new user's password), and hashes it.
func (s *Service) hashNewPassword(ctx context.Context, t Tenant, pw string, history []string) (hash string, err error) {
	if err := t.Settings.PasswordPolicy.Check(pw); err != nil {
		return "", err
	}
	if err := s.Hasher.NotReused(ctx, history, pw); err != nil {
		return "", err
	}
	return s.Hasher.Hash(ctx, pw)
}

// insertNewUser writes u to the tenant's pool with its audit event and,
// when invite, the invitation inv, in one transaction, and returns the user
// as written.
func (s *Service) insertNewUser(ctx context.Context, tenantID string, u User, invite bool, inv invitation) (User, error) {
	created := u // as invited, when it is
	err := s.Store.Update(ctx, func(tx Tx) error {
		// Read again: the tenant may have been deleted while the password
		// was hashed, and a user written now would be left behind for
		// whoever takes the slug next.
		t, err := GetTenant(tx, tenantID)
		if err != nil {
			return err
		}
		// A group deleted or renamed since the form was shown is a
		// refusal to explain, not a fault.
		if err := checkGroupsExist(tx, tenantID, u.Groups); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditUserCreate, userTarget(u), map[string]string{"status": string(u.Status)}); err != nil {
			return err
		}
		if err := InsertUser(tx, tenantID, u); err != nil {
			return err
		}
		if !invite {
			return nil
		}
		// On a copy: the store may run this function again, and each run
		// must start from the user as created.
		invited := u
		// A user just made cannot be an invitation repeated.
		if _, err := s.writeInvitation(ctx, tx, t, &invited, inv); err != nil {
			return err
		}
		created = invited
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return created, nil
}

// normalizeEmail is an email address as a user's record keeps it: without
// the spaces around it (a pasted address often has some), and valid
// (ValidateEmail). An address an administrator gives, one a legacy pool
// tells and one asked about at the apex get the same rule. An address
// left out ("", or only spaces) is "" and no error: a user need not have
// one; where one is required, the caller refuses "".
func normalizeEmail(email string) (string, error) {
	email = strings.TrimSpace(email)
	if email == "" {
		return "", nil
	}
	if err := ValidateEmail(email); err != nil {
		return "", err
	}
	return email, nil
}

// checkEmailVerified refuses an address marked verified that is not there,
// whether a new user or a change asks for it.
func checkEmailVerified(email string, verified bool) error {
	if verified && email == "" {
		return errVerifiedWithoutEmail
	}
	return nil
}

// User reads one user.
func (s *Service) User(ctx context.Context, tenantID, sub string) (User, error) {
	var u User
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		u, err = GetUser(tx, tenantID, sub)
		return err
	})
	return u, err
}

// FindUser finds a user by username, or by email when exactly one user has
// that address (UserByEmail); the sign-in page accepts either.
func FindUser(tx Tx, tenantID, login string) (User, error) {
	u, err := UserByUsername(tx, tenantID, login)
	if err == nil || !errors.Is(err, ErrNotFound) || !strings.Contains(login, "@") {
		return u, err
	}
	return UserByEmail(tx, tenantID, login)
}

// UserPage is one page of a user listing.
type UserPage struct {
	Users []User
	// Next is the cursor of the following page, empty on the last one.
	Next string
}

// Page sizes of the lists the service gives (ListUsers, FindUsers,
// GroupMembers, AuditLog, SearchUsers): a caller that asks for none, or
// for more than the most, gets the default (pageLimit).
const (
	DefaultPageSize       = 50
	MaxPageSize           = 100
	MaxAuditPageSize      = 200
	defaultSearchPageSize = 25
)

// pageLimit is the size of a page a caller asked for n of: n when it is 1
// to most, else def, the size a caller that asks for none gets. A size
// too large is a caller's mistake, answered with the usual page rather
// than the largest one.
func pageLimit(n, most, def int) int {
	if n <= 0 || n > most {
		return def
	}
	return n
}

// ListUsers pages through a tenant's users in sub order. A cursor walk over
// the key space keeps every page equally cheap, however many users there are.
func (s *Service) ListUsers(ctx context.Context, tenantID, after string, limit int) (UserPage, error) {
	limit = pageLimit(limit, MaxPageSize, DefaultPageSize)
	var page UserPage
	err := s.Store.View(ctx, func(tx Tx) error {
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		moves, err := groupMoves(tx, tenantID)
		if err != nil {
			return err
		}
		return ScanJSON(tx, CollUsers, tenantID, "", after, func(key string, u User) bool {
			if len(page.Users) == limit {
				page.Next = page.Users[limit-1].Sub
				return false
			}
			u.Groups = movedGroups(u.Groups, moves)
			page.Users = append(page.Users, u)
			return true
		})
	})
	return page, err
}

// UserQuery finds users by an exact value; exactly one of Username, Email
// and Sub is set.
type UserQuery struct {
	Username string // case-insensitive, as sign-in matches it
	Email    string // case-insensitive; several users may share an address
	// Sub is exact. A search by sub answers "is there such a user?"
	// with an empty list rather than ErrNotFound, as Cognito's ListUsers
	// filter `sub = "…"` does.
	Sub string
	// After and Limit page the users of an email search as ListUsers
	// pages a tenant's users: in sub order, those whose sub sorts after
	// After (the previous page's Next), Limit of them (1 to 100, default
	// 50). Thousands of users may share an address; a search by username
	// or sub finds one at most, and takes neither.
	After string
	Limit int
}

// FindUsers returns a page of the users that match q, in sub order. An
// unknown tenant is ErrNotFound; no match is an empty page.
func (s *Service) FindUsers(ctx context.Context, tenantID string, q UserQuery) (UserPage, error) {
	given := 0
	for _, v := range []string{q.Username, q.Email, q.Sub} {
		if v != "" {
			given++
		}
	}
	switch {
	case given != 1:
		return UserPage{}, fmt.Errorf("%w: search by one of username, email or sub", ErrInvalid)
	case q.Email == "" && (q.After != "" || q.Limit != 0):
		return UserPage{}, fmt.Errorf("%w: a search by username or sub finds one user at most; it takes no after or limit", ErrInvalid)
	}
	q.Limit = pageLimit(q.Limit, MaxPageSize, DefaultPageSize)
	var page UserPage
	err := s.Store.View(ctx, func(tx Tx) error {
		page = UserPage{}
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		if q.Email != "" {
			var err error
			page, err = UsersByEmail(tx, tenantID, q.Email, q.After, q.Limit)
			return err
		}
		var u User
		var err error
		if q.Sub != "" {
			u, err = GetUser(tx, tenantID, q.Sub)
		} else {
			u, err = UserByUsername(tx, tenantID, q.Username)
		}
		switch {
		case errors.Is(err, ErrNotFound):
			return nil
		case err != nil:
			return err
		}
		page.Users = []User{u}
		return nil
	})
	return page, err
}

// SetPassword sets a user's password as an administrator: permanent makes
// the user CONFIRMED, otherwise it is a temporary password.
func (s *Service) SetPassword(ctx context.Context, tenantID, sub, pw string, permanent bool) error {
	t, err := s.Tenant(ctx, tenantID)
	if err != nil {
		return err
	}
	hash, err := s.hashNewPassword(ctx, t, pw, nil)
	if err != nil {
		return err
	}
	now := s.Time()
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		if permanent {
			u.SetPermanentPassword(hash, t.Settings.PasswordPolicy.HistorySize, now)
		} else {
			u.PasswordHistory = PushHistory(u.PasswordHistory, u.PasswordHash, t.Settings.PasswordPolicy.HistorySize)
			setTemporaryPassword(&u, t, hash, now)
		}
		u.UpdatedAt = now
		if err := s.revoke(tx, tenantID, sub); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditUserPasswordSet, userTarget(u), map[string]string{"permanent": fmt.Sprint(permanent)}); err != nil {
			return err
		}
		return UpdateUser(tx, tenantID, u)
	})
}

// UserChange is the input of UpdateUser; nil fields stay as they are.
type UserChange struct {
	// Email replaces the address; "" removes it. A new address is
	// unverified unless EmailVerified says otherwise.
	Email         *string
	EmailVerified *bool
	// Attributes are merged into the user's: a nil value removes that
	// attribute, others are set.
	Attributes map[string]*string
	// Enabled false keeps the user from signing in, whatever the password.
	Enabled *bool
	// Groups replaces the user's group memberships; every group must exist.
	Groups *[]string
	// Activate activates the user once the rest is changed, as
	// ActivateUser does (a temporary password and the welcome mail, or only
	// enabling a deactivated CONFIRMED user again), in the same
	// transaction: a change and its activation commit together or not at
	// all. It cannot go with Enabled false.
	Activate bool
	// IfUnchanged, when set, makes the change conditional: it is called
	// in the change's transaction with the record as stored, and false
	// refuses the change with ErrStale. An edit form passes a test that
	// the record still shows what the form showed, so that a form opened
	// before someone else's change cannot undo that change.
	IfUnchanged func(User) bool
}

// UpdateUser changes what in gives of a user, in one transaction: the email
// address and whether it is verified, attributes, whether the user is
// enabled, and the groups the user is in (replaced as a whole); with
// Activate it then activates the user, and with IfUnchanged it refuses
// (ErrStale) a user changed since the caller read it. A change to what
// the user has already (a form saved untouched) writes nothing, records
// nothing, and returns the user as stored.
func (s *Service) UpdateUser(ctx context.Context, tenantID, sub string, in UserChange) (User, error) {
	in, err := in.withEmailChecked()
	if err != nil {
		return User{}, err
	}
	var inv invitation
	if in.Activate {
		if inv, err = s.prepareActivation(ctx, tenantID, sub, in); err != nil {
			return User{}, err
		}
	}
	now := s.Time()
	var u User
	err = s.Store.Update(ctx, func(tx Tx) (err error) {
		u, err = s.changeUser(ctx, tx, tenantID, sub, in, inv, now)
		return err
	})
	if err != nil {
		return User{}, err
	}
	if in.Activate && inv.mails() {
		s.mailQueued()
	}
	return u, nil
}

// withEmailChecked is in with the address it asks for, if any, as
// normalizeEmail keeps it.
func (in UserChange) withEmailChecked() (UserChange, error) {
	if in.Email == nil {
		return in, nil
	}
	email, err := normalizeEmail(*in.Email)
	if err != nil {
		return UserChange{}, err
	}
	in.Email = &email
	return in, nil
}

// prepareActivation checks that the user may be activated with the change
// in, and makes the temporary password, before the transaction that
// writes them.
func (s *Service) prepareActivation(ctx context.Context, tenantID, sub string, in UserChange) (invitation, error) {
	if in.Enabled != nil && !*in.Enabled {
		return invitation{}, fmt.Errorf("%w: a user cannot be activated and deactivated at once", ErrInvalid)
	}
	t, u, err := s.tenantAndUser(ctx, tenantID, sub)
	if err != nil {
		return invitation{}, err
	}
	if in.Email != nil {
		u.Email = *in.Email // the address the invitation will go to
	}
	return s.prepareInvitation(ctx, t, u, false)
}

// changeUser is UpdateUser's transaction: it applies in to the user as
// stored and writes the result with its audit events and, when in
// activates, the invitation inv. It returns the user as stored afterwards.
func (s *Service) changeUser(ctx context.Context, tx Tx, tenantID, sub string, in UserChange, inv invitation, now time.Time) (User, error) {
	u, err := GetUser(tx, tenantID, sub)
	if err != nil {
		return User{}, err
	}
	if in.IfUnchanged != nil && !in.IfUnchanged(u) {
		return User{}, fmt.Errorf("user %q: %w", sub, ErrStale)
	}
	before := u
	before.Attributes = maps.Clone(u.Attributes) // u's is changed in place by applyUserChange
	if err := s.applyUserChange(ctx, tx, tenantID, &u, in); err != nil {
		return User{}, err
	}
	if !in.Activate && u.Enabled == before.Enabled && len(userChanges(before, u)) == 0 {
		// A form saved untouched, or values the user has already:
		// nothing to store, nothing to record.
		return before, nil
	}
	u.UpdatedAt = now
	if err := UpdateUser(tx, tenantID, u); err != nil {
		return User{}, err
	}
	if err := s.auditUserChange(ctx, tx, tenantID, before, u); err != nil {
		return User{}, err
	}
	if !in.Activate {
		return u, nil
	}
	t, err := GetTenant(tx, tenantID)
	if err != nil {
		return User{}, err
	}
	// UpdatedAt is now, later than any earlier invitation: a user
	// changed by this call is invited anew, never taken for a repeat.
	_, err = s.writeInvitation(ctx, tx, t, &u, inv)
	return u, err
}

// applyUserChange changes u, as read in tx, as in asks, field by field,
// and refuses what may not be: a verified address that is not there,
// attributes out of bounds, a group that does not exist, and
// administrators locking themselves out. Deactivating ends the user's
// sessions and tokens in tx.
func (s *Service) applyUserChange(ctx context.Context, tx Tx, tenantID string, u *User, in UserChange) error {
	if in.Email != nil {
		if FoldKey(*in.Email) != FoldKey(u.Email) {
			u.EmailVerified = false // a new address, not just new capitals
		}
		u.Email = *in.Email
	}
	if in.EmailVerified != nil {
		u.EmailVerified = *in.EmailVerified
	}
	if err := checkEmailVerified(u.Email, u.EmailVerified); err != nil {
		return err
	}
	if len(in.Attributes) > 0 {
		if err := mergeAttributes(u, in.Attributes); err != nil {
			return err
		}
	}
	if in.Enabled != nil {
		if err := s.setEnabled(ctx, tx, tenantID, u, *in.Enabled); err != nil {
			return err
		}
	}
	if in.Groups != nil {
		return setGroups(ctx, tx, tenantID, u, *in.Groups)
	}
	return nil
}

// mergeAttributes sets the attributes of changes on u, or removes those
// whose value is nil, and validates the result.
func mergeAttributes(u *User, changes map[string]*string) error {
	// u was decoded afresh in this run of the transaction, so changing
	// its map in place cannot leak into a retry.
	if u.Attributes == nil {
		u.Attributes = make(map[string]string, len(changes))
	}
	for name, value := range changes {
		if value == nil {
			delete(u.Attributes, name)
		} else {
			u.Attributes[name] = *value
		}
	}
	return ValidateAttributes(u.Attributes)
}

// setEnabled enables or deactivates u. Administrators cannot deactivate
// themselves (ErrSelfLockout).
func (s *Service) setEnabled(ctx context.Context, tx Tx, tenantID string, u *User, enabled bool) error {
	if u.Enabled && !enabled {
		if actingOnSelf(ctx, u.Sub) {
			return ErrSelfLockout
		}
		// Deactivation stops sign-in at once: sessions and
		// refresh tokens end with it.
		if err := s.revoke(tx, tenantID, u.Sub); err != nil {
			return err
		}
	}
	u.Enabled = enabled
	return nil
}

// setGroups replaces u's group memberships by groups, which must all exist.
// Administrators cannot take themselves out of the admin group
// (ErrSelfLockout).
func setGroups(ctx context.Context, tx Tx, tenantID string, u *User, groups []string) error {
	groups = uniqueGroups(groups)
	if err := checkGroupsExist(tx, tenantID, groups); err != nil {
		return err
	}
	t, err := GetTenant(tx, tenantID)
	if err != nil {
		return err
	}
	if err := checkAdminGroupKept(ctx, t, *u, groups); err != nil {
		return err
	}
	u.Groups = groups
	return nil
}

// DeleteUser removes a user from a tenant's pool.
func (s *Service) DeleteUser(ctx context.Context, tenantID, sub string) error {
	if actingOnSelf(ctx, sub) {
		return ErrSelfLockout
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := GetUser(tx, tenantID, sub)
		if err != nil {
			return err
		}
		if err := s.revoke(tx, tenantID, sub); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditUserDelete, userTarget(u), nil); err != nil {
			return err
		}
		// A stale entry would lead the passkeys to a user created later
		// under the same sub (an import keeps subs).
		if err := deleteWebAuthnHandle(tx, tenantID, u); err != nil {
			return err
		}
		// So would a live reset code: it would set the password of that
		// later user for whoever read this one's mail.
		if err := tx.Delete(CollPasswordResets, tenantID, resetKey(sub)); err != nil {
			return err
		}
		return DeleteUser(tx, tenantID, sub)
	})
}

// ValidateUsername applies Cognito's rule: 1–128 characters, each a
// letter, mark, digit, symbol or punctuation ([\p{L}\p{M}\p{S}\p{N}\p{P}]).
// So no spaces, and nothing invisible (a zero-width space, a soft hyphen)
// that would make two names look alike in a list or the audit trail.
// Like ValidateEmail and ValidateAttributes, it fails with an *InvalidError.
func ValidateUsername(name string) error {
	if name == "" || utf8.RuneCountInString(name) > 128 {
		return invalid(CodeUsernameLength)
	}
	if strings.ContainsFunc(name, unicode.IsSpace) {
		return invalid(CodeUsernameSpaces)
	}
	if !utf8.ValidString(name) || strings.ContainsFunc(name, func(r rune) bool {
		return !unicode.In(r, unicode.L, unicode.M, unicode.S, unicode.N, unicode.P)
	}) {
		return invalid(CodeUsernameCharacters)
	}
	return nil
}

// ValidateEmail accepts a plain addr-spec such as ann@example.com, or
// jörg@exämple.test: one address that the mail package can send to, as
// it is written. So net/mail must read it (the mail package parses every
// recipient with it, and gives up at once on one it cannot read), and
// read it as exactly the text given: no display name, comment, angle
// brackets or quoted local part, which it would drop or change. Letters
// outside ASCII are allowed in both parts; the mail package sends them
// with SMTPUTF8, or the domain as IDNA A-labels. Beyond that the domain
// needs a dot, and the address may be at most 254 bytes of plain text.
func ValidateEmail(email string) error {
	at := strings.LastIndexByte(email, '@')
	if at < 1 || at == len(email)-1 || strings.ContainsFunc(email, unicode.IsSpace) || len(email) > 254 ||
		!strings.Contains(email[at+1:], ".") || strings.ContainsAny(email, "<>,;\"") || !PlainText(email) {
		return invalid(CodeEmailInvalid, email)
	}
	if parsed, err := netmail.ParseAddress(email); err != nil || parsed.Address != email {
		return invalid(CodeEmailInvalid, email)
	}
	return nil
}

// StandardAttributes are Cognito's standard user attributes besides the ones
// User holds in fields of its own (email, email_verified): the names an
// attribute may have other than custom:<name>.
func StandardAttributes() []string {
	return []string{
		"name", "given_name", "family_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale",
		"phone_number", "phone_number_verified", "address", "updated_at",
	}
}

// ValidateAttributes checks attribute names and values against Cognito's
// limits: standard names or custom:<name> (≤ 32 characters, as Cognito
// counts them, not bytes, of letters, digits, symbols and punctuation),
// values of ≤ 2048 characters of text.
func ValidateAttributes(attrs map[string]string) error {
	standard := StandardAttributes()
	for name, value := range attrs {
		custom, isCustom := strings.CutPrefix(name, "custom:")
		switch {
		case isCustom && (custom == "" || utf8.RuneCountInString(name) > 32 || ValidateUsername(custom) != nil):
			return invalid(CodeAttributeCustomName, name)
		case !isCustom && !slices.Contains(standard, name):
			return invalid(CodeAttributeUnknown, name)
		case utf8.RuneCountInString(value) > 2048:
			return invalid(CodeAttributeTooLong, name)
		case !validTextValue(value):
			return invalid(CodeAttributeNotText, name)
		case value != "":
			if code := attributeFormatProblem(name, value); code != "" {
				if code == CodeAttributePhone {
					return invalid(code, value)
				}
				return invalid(code, name, value)
			}
		}
	}
	return nil
}

// attributeFormatProblem is the code of the rule value breaks for the
// standard attributes with a form of their own (as Cognito checks them,
// and as the claims of the same name are read), or "".
func attributeFormatProblem(name, value string) string {
	switch name {
	case "phone_number":
		if !IsE164(value) {
			return CodeAttributePhone
		}
	case "phone_number_verified":
		if value != "true" && value != "false" {
			return CodeAttributeBoolean
		}
	case "updated_at":
		if _, err := strconv.ParseUint(value, 10, 63); err != nil {
			return CodeAttributeEpoch
		}
	case "birthdate":
		// OpenID Connect's form: YYYY-MM-DD, with 0000 for a year left
		// out, or the year alone.
		_, dateErr := time.Parse(time.DateOnly, strings.Replace(value, "0000-", "2000-", 1))
		_, yearErr := strconv.ParseUint(value, 10, 16)
		if dateErr != nil && (yearErr != nil || len(value) != 4) {
			return CodeAttributeDate
		}
	}
	return ""
}

// IsE164 reports whether s is a phone number as Cognito stores one: + and
// 2 to 15 digits.
func IsE164(s string) bool {
	digits, ok := strings.CutPrefix(s, "+")
	if !ok || len(digits) < 2 || len(digits) > 15 {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
