// Command kratos is kratos-kube's Go Kratos test peer: a Kratos v2 service
// and client using Kratos's own Kubernetes registry
// (github.com/go-kratos/kratos/contrib/registry/kubernetes), so the interop
// tests see exactly what a Go Kratos service writes to and reads from the
// API server.
//
//	kratos server -kubeconfig F -addr 127.0.0.2:9000 -name helloworld -version v1 -metadata k=v,k2=v2 [-id ID]
//	kratos client -kubeconfig F -namespace NS [-timeout 2s]
//
// server runs a kratos.App with a Kratos gRPC server (helloworld.Greeter,
// answering "Hello <name> from <id>", and grpc.health.v1) and the Kubernetes
// registry as Registrar. Like Kratos in a Pod, the registry finds its Pod by
// $HOSTNAME and its namespace in
// /var/run/secrets/kubernetes.io/serviceaccount/namespace, read once when
// the process starts. It prints "READY <endpoint>" once registered, and stops
// like a Kratos App (deregister, health NOT_SERVING, GracefulStop) on
// SIGTERM or when stdin closes, then prints "STOPPED".
//
// client prints "READY" once the registry's Pod informer has synced, then
// reads commands from stdin, one per line, and answers each with one JSON
// line (see client.go). It exits when stdin closes.
package main

import (
	"fmt"
	"os"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: kratos server|client [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "server":
		err = runServer(os.Args[2:])
	case "client":
		err = runClient(os.Args[2:])
	default:
		err = fmt.Errorf("unknown mode %q (want server or client)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "kratos peer:", err)
		os.Exit(1)
	}
}

// clientset builds a Kubernetes clientset from a kubeconfig file.
func clientset(kubeconfig string) (*kubernetes.Clientset, error) {
	if kubeconfig == "" {
		return nil, fmt.Errorf("-kubeconfig is required")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
	}
	return kubernetes.NewForConfig(cfg)
}
