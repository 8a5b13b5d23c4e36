// Command grpc-go-peer is kratos-kube's test peer: a grpc-go server speaking
// helloworld.Greeter and grpc.health.v1, as a Go Kratos service does. The
// transport tests build it offline (GOPATH mode against Debian's
// golang-google-grpc-dev) and run it as a child process.
//
// It listens on -addr (default 127.0.0.1:0), prints "LISTENING <host:port>"
// on stdout, and stops gracefully (health NOT_SERVING, then GracefulStop)
// on SIGTERM or when stdin closes, so it never outlives its test.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/golang/protobuf/ptypes/wrappers"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// helloworld.HelloRequest and HelloReply each hold one string in field 1,
// which is exactly the wire format of google.protobuf.StringValue, so the
// Greeter below needs no generated code.
type greeter struct{ addr string }

func (g *greeter) sayHello(ctx context.Context, in *wrappers.StringValue) (*wrappers.StringValue, error) {
	return &wrappers.StringValue{Value: fmt.Sprintf("Hello %s from %s", in.Value, g.addr)}, nil
}

func sayHelloHandler(srv interface{}, ctx context.Context, dec func(interface{}) error, _ grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(wrappers.StringValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	return srv.(*greeter).sayHello(ctx, in)
}

var greeterDesc = grpc.ServiceDesc{
	ServiceName: "helloworld.Greeter",
	HandlerType: (*interface{})(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "SayHello", Handler: sayHelloHandler}},
	Metadata:    "helloworld.proto",
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	srv.RegisterService(&greeterDesc, &greeter{addr: lis.Addr().String()})
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)

	stop := make(chan struct{}, 2)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sigs; stop <- struct{}{} }()
	go func() { _, _ = io.Copy(ioutil.Discard, os.Stdin); stop <- struct{}{} }()
	go func() {
		<-stop
		hs.Shutdown() // every service NOT_SERVING, like a stopping Kratos server
		srv.GracefulStop()
	}()

	fmt.Printf("LISTENING %s\n", lis.Addr().String())
	if err := srv.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
