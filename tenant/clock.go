package tenant

import "time"

// Time is the time by the service's clock, in UTC: Now, or the system's
// clock when Now is nil. It is the moment the service's records and audit
// events show, for the packages that record beside it (a backup's moment,
// an import's), so that a test that moves Now moves theirs too. A duration
// is measured with time.Now and time.Since, whose monotonic reading Now
// may not carry.
func (s *Service) Time() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}
