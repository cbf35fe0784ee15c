package config

// Warnings lists what is valid but probably not meant in c: a centre that would
// run, yet leave something unwatched. Each says what the safety score does then.
func (c *Config) Warnings() []string {
	var w []string
	if len(c.Alerts.Recipients) == 0 {
		w = append(w, "alerts.recipients: none: nobody is told of an alert (a warm medicine fridge, a missed round); "+
			"alerts only show on the status page, and the safety score leaves out its response component "+
			"(the other weights are scaled up)")
	}
	if len(c.Rounds.Checkpoints) == 0 {
		w = append(w, "rounds.checkpoints: none: night rounds are not checked, and the safety score leaves out its rounds "+
			"component (the other weights are scaled up), so the score says nothing about whether rounds were done")
	}
	return w
}
