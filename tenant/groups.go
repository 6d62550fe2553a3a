package tenant

import (
	"context"
	"math"
	"strconv"
	"unicode/utf8"
)

// CreateGroup adds a group to a tenant's pool. Its name, description and
// precedence follow Cognito's rules (see validateGroup); CreatedAt is set
// here.
func (s *Service) CreateGroup(ctx context.Context, tenantID string, g Group) (Group, error) {
	if err := validateGroup(g); err != nil {
		return Group{}, err
	}
	g.CreatedAt = s.now()
	err := s.Store.Update(ctx, func(tx Tx) error {
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		if err := CheckGroupNameFree(tx, tenantID, g.Name); err != nil {
			return err
		}
		if err := s.audit(ctx, tx, tenantID, AuditGroupCreate, AuditTarget{Kind: TargetGroup, ID: g.Name}, nil); err != nil {
			return err
		}
		return PutJSON(tx, CollGroups, tenantID, g.Name, g)
	})
	return g, err
}

// Cognito's limits on a group's name, description and precedence.
const (
	MaxGroupNameLength  = 128
	MaxGroupDescription = 2048
	MaxGroupPrecedence  = math.MaxInt32
)

// ValidateGroupDescription checks a group's description: at most 2048
// characters, as in Cognito.
func ValidateGroupDescription(description string) error {
	if n := utf8.RuneCountInString(description); n > MaxGroupDescription {
		return invalid(CodeGroupDescLength, strconv.Itoa(MaxGroupDescription), strconv.Itoa(n))
	}
	if !validTextValue(description) {
		return invalid(CodeGroupDescText)
	}
	return nil
}

// ValidateGroupPrecedence checks a group's precedence, which may be absent
// (nil): Cognito takes 0 (first) to 2^31-1.
func ValidateGroupPrecedence(precedence *int) error {
	if precedence != nil && (*precedence < 0 || *precedence > MaxGroupPrecedence) {
		return invalid(CodeGroupPrecedenceRange, strconv.Itoa(MaxGroupPrecedence))
	}
	return nil
}

// validateGroup checks everything of a group that its creator chooses.
func validateGroup(g Group) error {
	if err := ValidateGroupName(g.Name); err != nil {
		return err
	}
	if err := ValidateGroupDescription(g.Description); err != nil {
		return err
	}
	return ValidateGroupPrecedence(g.Precedence)
}
