// Command greeter-bench is a grpc-go helloworld.Greeter server for the
// transport benchmark, built in module mode (scripts/build-peers.mjs). It needs no
// generated code: a pass-through codec hands the raw protobuf bytes to one
// unknown-service handler, which answers SayHello (HelloReply.message =
// "Hello " + HelloRequest.name), grpc.health.v1.Health/Check (SERVING), and
// the server stream kratoskube.echo.v1.Echo/Repeat (EchoRequest.count
// EchoResponse messages whose text is EchoRequest.text) for the streaming
// benchmark. It also serves grpc.health.v1.Health/Watch (the current status,
// then each change) and, for the resilience benchmark, can misbehave:
//
//	-delay 5ms          answer each SayHello after this long
//	-fail-percent 20    answer this share of SayHello calls with Unavailable,
//	                    evenly spread (deterministic: call n fails when
//	                    floor((n+1)·p/100) > floor(n·p/100))
//	-cold 2s            for this long after start, SayHello's delay is
//	-cold-factor 5      multiplied by this factor (a cold Pod)
//	-flap 1s            toggle the health status between SERVING and
//	                    NOT_SERVING this often (Check and Watch report it)
//
// On SIGTERM or SIGINT it reports NOT_SERVING, ends the Watch streams and
// stops gracefully (GOAWAY, calls in flight finish), as a Kratos server does,
// then prints "SERVED n": the SayHello calls it answered, failed ones included.
//
//	greeter-bench -addr 127.0.0.1:0    prints "LISTEN host:port" when ready
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Health statuses of grpc.health.v1.HealthCheckResponse.
const (
	serving    = 1
	notServing = 2
)

// health is the server's status and a channel closed on each change.
type health struct {
	mu      sync.Mutex
	status  byte
	changed chan struct{}
}

func newHealth() *health { return &health{status: serving, changed: make(chan struct{})} }

// get returns the status and a channel closed at its next change.
func (h *health) get() (byte, <-chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.status, h.changed
}

func (h *health) set(s byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.status == s {
		return
	}
	h.status = s
	close(h.changed)
	h.changed = make(chan struct{})
}

// behaviour is what the flags ask SayHello and the health service to do.
type behaviour struct {
	delay       time.Duration
	failPercent int
	cold        time.Duration
	coldFactor  float64
	started     time.Time
	calls       atomic.Int64
	health      *health
	stopping    chan struct{}
}

var b = &behaviour{health: newHealth(), stopping: make(chan struct{}), started: time.Now()}

// sayHello sleeps the configured delay and tells whether this call fails.
func (b *behaviour) sayHello() bool {
	d := b.delay
	if b.cold > 0 && time.Since(b.started) < b.cold {
		d = time.Duration(float64(d) * b.coldFactor)
	}
	if d > 0 {
		time.Sleep(d)
	}
	n := b.calls.Add(1) - 1
	if b.failPercent <= 0 {
		return false
	}
	p := int64(b.failPercent)
	return (n+1)*p/100 > n*p/100
}

// watch sends the health status, then each change, until the call ends or the server stops.
func (b *behaviour) watch(stream grpc.ServerStream) error {
	for {
		s, changed := b.health.get()
		msg := []byte{0x08, s}
		if err := stream.SendMsg(&msg); err != nil {
			return err
		}
		select {
		case <-changed:
		case <-stream.Context().Done():
			return stream.Context().Err()
		case <-b.stopping:
			return status.Error(codes.Unavailable, "server stopping")
		}
	}
}

type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(*[]byte); ok {
		return *b, nil
	}
	return nil, fmt.Errorf("rawCodec: unexpected %T", v)
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return fmt.Errorf("rawCodec: unexpected %T", v)
	}
	*b = append((*b)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// varint reads a varint at msg[i:]; it returns the value and the next index.
func varint(msg []byte, i int) (int, int) {
	n, shift := 0, 0
	for i < len(msg) {
		c := msg[i]
		i++
		n |= int(c&0x7f) << shift
		shift += 7
		if c < 0x80 {
			break
		}
	}
	return n, i
}

// fields returns protobuf field 1 (length-delimited) and field 2 (varint) of msg.
func fields(msg []byte) (f1 []byte, f2 int) {
	i := 0
	for i < len(msg) {
		tag := msg[i]
		i++
		switch tag & 7 {
		case 0:
			var v int
			v, i = varint(msg, i)
			if tag>>3 == 2 {
				f2 = v
			}
		case 2:
			var n int
			n, i = varint(msg, i)
			if i+n > len(msg) {
				return f1, f2
			}
			if tag>>3 == 1 {
				f1 = msg[i : i+n]
			}
			i += n
		default:
			return f1, f2
		}
	}
	return f1, f2
}

// field1 returns protobuf field 1 (length-delimited) of msg, or nil.
func field1(msg []byte) []byte {
	f1, _ := fields(msg)
	return f1
}

// lengthDelimited is field 1 holding s, a message with one string field.
func lengthDelimited(s []byte) []byte {
	out := append([]byte{0x0a}, encodeVarint(len(s))...)
	return append(out, s...)
}

func handler(_ any, stream grpc.ServerStream) error {
	method, _ := grpc.MethodFromServerStream(stream)
	var req []byte
	if err := stream.RecvMsg(&req); err != nil {
		return err
	}
	var resp []byte
	switch method {
	case "/helloworld.Greeter/SayHello":
		if b.sayHello() {
			return status.Error(codes.Unavailable, "greeter-bench: failing as asked (-fail-percent)")
		}
		resp = lengthDelimited(append([]byte("Hello "), field1(req)...))
	case "/grpc.health.v1.Health/Check":
		s, _ := b.health.get()
		resp = []byte{0x08, s}
	case "/grpc.health.v1.Health/Watch":
		return b.watch(stream)
	case "/kratoskube.echo.v1.Echo/Repeat":
		text, count := fields(req)
		msg := lengthDelimited(text)
		for i := 0; i < count; i++ {
			if err := stream.SendMsg(&msg); err != nil {
				return err
			}
		}
		return nil
	default:
		return status.Errorf(codes.Unimplemented, "unknown method %s", method)
	}
	return stream.SendMsg(&resp)
}

func encodeVarint(n int) []byte {
	var out []byte
	for n >= 0x80 {
		out = append(out, byte(n)|0x80)
		n >>= 7
	}
	return append(out, byte(n))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.DurationVar(&b.delay, "delay", 0, "delay of each SayHello")
	flag.IntVar(&b.failPercent, "fail-percent", 0, "share of SayHello calls answered with Unavailable (0-100)")
	flag.DurationVar(&b.cold, "cold", 0, "how long after start SayHello is slower")
	flag.Float64Var(&b.coldFactor, "cold-factor", 5, "delay factor while cold")
	flap := flag.Duration("flap", 0, "toggle SERVING/NOT_SERVING this often (0 = never)")
	flag.Parse()
	if b.failPercent < 0 || b.failPercent > 100 {
		fmt.Fprintln(os.Stderr, "-fail-percent must be within 0-100")
		os.Exit(2)
	}
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(handler))
	if *flap > 0 {
		go func() {
			t := time.NewTicker(*flap)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					if s, _ := b.health.get(); s == serving {
						b.health.set(notServing)
					} else {
						b.health.set(serving)
					}
				case <-b.stopping:
					return
				}
			}
		}()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	stopped := make(chan struct{})
	go func() {
		<-sig
		b.health.set(notServing)
		close(b.stopping)
		s.GracefulStop()
		close(stopped)
	}()
	fmt.Printf("LISTEN %s\n", lis.Addr().String())
	if err := s.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	<-stopped // Serve returns once GracefulStop begins; its calls finish before this.
	fmt.Printf("SERVED %d\n", b.calls.Load())
}
