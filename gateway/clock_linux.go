package gateway

import "syscall"

// kernelSynced asks adjtimex(2) whether NTP (chrony, systemd-timesyncd) has
// synchronised the clock: state TIME_ERROR or the STA_UNSYNC bit mean it has not.
func kernelSynced() bool {
	var tx syscall.Timex
	state, err := syscall.Adjtimex(&tx)
	const timeError, staUnsync = 5, 0x0040
	return err == nil && state != timeError && tx.Status&staUnsync == 0
}
