package tenant

import (
	"context"
	"fmt"
	"strings"
)

// CreateGroup adds a group to a tenant's pool. Names follow Cognito: 1–128
// characters without surrounding whitespace.
func (s *Service) CreateGroup(ctx context.Context, tenantID, name string) (Group, error) {
	if name == "" || len(name) > 128 || strings.TrimSpace(name) != name {
		return Group{}, fmt.Errorf("%w: a group name must be 1 to 128 characters without leading or trailing spaces", ErrInvalid)
	}
	g := Group{Name: name, CreatedAt: s.now()}
	err := s.Store.Update(ctx, func(tx Tx) error {
		if _, err := GetTenant(tx, tenantID); err != nil {
			return err
		}
		if _, err := tx.Get(CollGroups, tenantID, name); err == nil {
			return fmt.Errorf("group %q: %w", name, ErrAlreadyExists)
		}
		return PutJSON(tx, CollGroups, tenantID, name, g)
	})
	return g, err
}
