// Command greeter-bench is a grpc-go helloworld.Greeter server for the
// transport benchmark, built in module mode (scripts/build-peers.mjs). It needs no
// generated code: a pass-through codec hands the raw protobuf bytes to one
// unknown-service handler, which answers SayHello (HelloReply.message =
// "Hello " + HelloRequest.name) and grpc.health.v1.Health/Check (SERVING).
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

// field1 returns protobuf field 1 (length-delimited) of msg, or nil.
func field1(msg []byte) []byte {
	i := 0
	for i < len(msg) {
		tag := msg[i]
		i++
		if tag&7 != 2 {
			return nil
		}
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
		if i+n > len(msg) {
			return nil
		}
		if tag>>3 == 1 {
			return msg[i : i+n]
		}
		i += n
	}
	return nil
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
		msg := append([]byte("Hello "), field1(req)...)
		resp = append([]byte{0x0a}, encodeVarint(len(msg))...)
		resp = append(resp, msg...)
	case "/grpc.health.v1.Health/Check":
		resp = []byte{0x08, 0x01}
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
