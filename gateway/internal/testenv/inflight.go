package testenv

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Unread reports whether a client's request waits on the server's HTTP port,
// sent but not yet read: an established loopback connection to the port with bytes
// in its receive queue. With the server held by SIGSTOP, that is a write in
// flight. It reads /proc/net/tcp (Linux).
func (in *Influx) Unread() (bool, error) { return unread(in.Port) }

func unread(port int) (bool, error) {
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return false, fmt.Errorf("testenv: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue …
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[3] != "01" { // 01: ESTABLISHED
			continue
		}
		_, lport, ok := strings.Cut(fields[1], ":")
		if p, err := strconv.ParseUint(lport, 16, 16); !ok || err != nil || int(p) != port {
			continue
		}
		_, rxq, _ := strings.Cut(fields[4], ":")
		if n, err := strconv.ParseUint(rxq, 16, 64); err == nil && n > 0 {
			return true, nil
		}
	}
	return false, sc.Err()
}
