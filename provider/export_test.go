package provider

// HeldSignIns reports what the provider holds in memory of authorization
// requests and codes: the entries, and the bytes counted for them.
func (p *Provider) HeldSignIns() (entries, bytes int) { return p.storage.pending.held() }
