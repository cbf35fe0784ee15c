// Command baresub is the benchmarks' baseline: a bare paho subscriber (persistent
// session, QoS 1, SetOrderMatters(false): paho's handler goroutine per message) that
// only counts messages and acknowledges each one as paho's handler returns. It does
// no decoding, no disk and no network I/O beyond MQTT, on paho's own connection, so
// its CPU time, peak RSS and rate are what receiving the messages with paho costs
// before any work is done. --order-matters runs the handler on paho's router
// goroutine instead, as the gateway's MQTT source does.
//
// It prints one line per stage on stdout, for the benchmark harness to read:
//
//	subscribed                                 (the subscription is in place)
//	done n=200000 elapsed=4.1s first=3.9s hwm_kb=9876
//
// elapsed is the time since the process started, first the time since the first
// message, hwm_kb the peak RSS so far (VmHWM; Linux only, 0 elsewhere).
//
// With --subscribe-only it creates the persistent session, prints "subscribed" and
// exits, so that messages published afterwards are queued for it by the broker.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

func main() {
	start := time.Now()
	url := flag.String("url", "tcp://127.0.0.1:1883", "broker `url`")
	clientID := flag.String("client-id", "baresub", "MQTT client id (the persistent session's key)")
	topic := flag.String("topic", "#", "topic `filter` to subscribe to at QoS 1")
	n := flag.Int64("n", 0, "exit after this many messages (0: run until killed)")
	subscribeOnly := flag.Bool("subscribe-only", false, "create the persistent session, then exit")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to `file`")
	orderMatters := flag.Bool("order-matters", false, "SetOrderMatters(true): handle messages on paho's router goroutine, not a goroutine each")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fail("%v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fail("%v", err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}

	var (
		count     atomic.Int64
		firstAt   atomic.Int64 // unix nanos of the first message
		done      = make(chan struct{})
		closeDone sync.Once
	)
	handler := func(_ mqtt.Client, _ mqtt.Message) {
		if firstAt.Load() == 0 {
			firstAt.CompareAndSwap(0, time.Now().UnixNano())
		}
		if c := count.Add(1); *n > 0 && c >= *n {
			closeDone.Do(func() { close(done) })
		}
	}
	o := mqtt.NewClientOptions().
		AddBroker(*url).
		SetClientID(*clientID).
		SetCleanSession(false).
		SetResumeSubs(true).
		SetOrderMatters(*orderMatters).
		SetKeepAlive(30 * time.Second).
		SetPingTimeout(10 * time.Second).
		SetConnectTimeout(10 * time.Second).
		SetWriteTimeout(10 * time.Second).
		SetMessageChannelDepth(1000).
		SetDefaultPublishHandler(handler)
	c := mqtt.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		fail("connect %s: %v", *url, tok.Error())
	}
	// nil callback: the default handler, which also takes the session's queued messages.
	if tok := c.Subscribe(*topic, 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		fail("subscribe %s: %v", *topic, tok.Error())
	}
	fmt.Println("subscribed")
	if *subscribeOnly {
		c.Disconnect(250)
		return
	}
	if *n > 0 {
		<-done
	} else {
		select {}
	}
	end := time.Now()
	first := time.Unix(0, firstAt.Load())
	fmt.Printf("done n=%d elapsed=%s first=%s hwm_kb=%d\n", count.Load(), end.Sub(start), end.Sub(first), peakRSSKiB())
	c.Disconnect(250)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "baresub: "+format+"\n", args...)
	os.Exit(1)
}

// peakRSSKiB returns the process's peak resident set size (VmHWM in
// /proc/self/status), or 0 where there is none. Unlike getrusage's ru_maxrss it does
// not include the parent's memory that a vfork-style spawn counts before exec.
func peakRSSKiB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb
		}
	}
	return 0
}
