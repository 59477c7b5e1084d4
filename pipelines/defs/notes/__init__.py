"""Clinical notes: plain-text note files under landing/notes/, and de-identification of every source's notes."""
