package dashboard

// FromRecords is s reading every figure from the records, as it does for
// a viewer bound to a unit, so that tests can compare the two ways.
func FromRecords(s *Service) *Service {
	c := *s
	c.raw = true
	return &c
}
