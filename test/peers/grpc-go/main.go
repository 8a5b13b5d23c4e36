// Command grpc-go is kratos-kube's grpc-go test peer: a grpc-go server
// speaking helloworld.Greeter and grpc.health.v1, as a Go Kratos service
// does. The transport tests build it (module mode, scripts/build-peers.mjs)
// and run it as a child process.
//
// It listens on -addr (default 127.0.0.1:0), prints "LISTENING <host:port>"
// on stdout, and stops gracefully (health NOT_SERVING, then GracefulStop)
// on SIGTERM or when stdin closes, so it never outlives its test.
package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"kratos-kube/test-peers/internal/greeter"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	lis, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv := grpc.NewServer()
	srv.RegisterService(&greeter.ServiceDesc, &greeter.Server{From: lis.Addr().String()})
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(srv, hs)

	stop := make(chan struct{}, 2)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sigs; stop <- struct{}{} }()
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop <- struct{}{} }()
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
