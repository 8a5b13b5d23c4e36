// Command greeter-bench is a grpc-go helloworld.Greeter server for the
// transport benchmark, built in module mode (scripts/build-peers.mjs). It needs no
// generated code: a pass-through codec hands the raw protobuf bytes to one
// unknown-service handler, which answers SayHello (HelloReply.message =
// "Hello " + HelloRequest.name), grpc.health.v1.Health/Check (SERVING), and
// the server stream kratoskube.echo.v1.Echo/Repeat (EchoRequest.count
// EchoResponse messages whose text is EchoRequest.text) for the streaming
// benchmark.
//
//	greeter-bench -addr 127.0.0.1:0    prints "LISTEN host:port" when ready
package main

import (
	"flag"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

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
		resp = lengthDelimited(append([]byte("Hello "), field1(req)...))
	case "/grpc.health.v1.Health/Check":
		resp = []byte{0x08, 0x01}
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
	flag.Parse()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	s := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}), grpc.UnknownServiceHandler(handler))
	fmt.Printf("LISTEN %s\n", lis.Addr().String())
	if err := s.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
