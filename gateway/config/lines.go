package config

// Line returns the line of the field at path ("zones[3].kind", "score.caps") in
// the file c was parsed from, or of its nearest ancestor written there; 0 for a
// config built in code or a field the file leaves out. Other packages use it to
// name the local line in their own *FieldError (the ministry registry's check).
func (c *Config) Line(path string) int {
	if c == nil {
		return 0
	}
	return c.pos.line(path)
}
