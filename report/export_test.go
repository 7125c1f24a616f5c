package report

// CacheCounts returns how many calendar answers came from the cache and how
// many were computed.
func (a *API) CacheCounts() (hits, misses int64) { return a.hits.Load(), a.misses.Load() }
