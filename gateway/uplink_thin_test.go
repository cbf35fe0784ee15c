package gateway

import (
	"time"

	"github.com/saqshy/saqshy/gateway/check"
	"github.com/saqshy/saqshy/gateway/deadband"
)

func thinAppender(next check.Appender, c check.Clock) check.Appender {
	return deadband.New(next, deadband.Default(), c.Now)
}

const flushEvery = 10 * time.Second
