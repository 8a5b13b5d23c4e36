// Package greeter is the helloworld.Greeter service of grpc-go's helloworld
// example, shared by kratos-kube's Go test peers. HelloRequest and HelloReply
// each hold one string in field 1, which is exactly the wire format of
// google.protobuf.StringValue, so the service needs no generated code.
package greeter

import (
	"context"
	"fmt"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// Method is the full gRPC method name of SayHello.
const Method = "/helloworld.Greeter/SayHello"

// Server answers SayHello with "Hello <name> from <From>".
type Server struct{ From string }

// SayHello implements helloworld.Greeter/SayHello.
func (g *Server) SayHello(_ context.Context, in *wrapperspb.StringValue) (*wrapperspb.StringValue, error) {
	return wrapperspb.String(fmt.Sprintf("Hello %s from %s", in.GetValue(), g.From)), nil
}

func sayHelloHandler(srv any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
	in := new(wrapperspb.StringValue)
	if err := dec(in); err != nil {
		return nil, err
	}
	if interceptor == nil {
		return srv.(*Server).SayHello(ctx, in)
	}
	info := &grpc.UnaryServerInfo{Server: srv, FullMethod: Method}
	handler := func(ctx context.Context, req any) (any, error) {
		return srv.(*Server).SayHello(ctx, req.(*wrapperspb.StringValue))
	}
	return interceptor(ctx, in, info, handler)
}

// ServiceDesc describes helloworld.Greeter for grpc.ServiceRegistrar.RegisterService.
var ServiceDesc = grpc.ServiceDesc{
	ServiceName: "helloworld.Greeter",
	HandlerType: (*any)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "SayHello", Handler: sayHelloHandler}},
	Metadata:    "helloworld.proto",
}

// Call invokes SayHello on conn.
func Call(ctx context.Context, conn grpc.ClientConnInterface, name string) (string, error) {
	out := new(wrapperspb.StringValue)
	if err := conn.Invoke(ctx, Method, wrapperspb.String(name), out); err != nil {
		return "", err
	}
	return out.GetValue(), nil
}
