# Build from the repository root:
#   docker build -f deploy/sayhello.Dockerfile -t kratos-kube/sayhello:0.1.0 .
# (tag it with the version kustomization.yaml pins; push it and pin the digest
# for a real cluster). Node 24 runs the example's TypeScript directly (type
# stripping).
#
# The final image holds only what the program runs: the example, the
# generated protobuf code it imports, and node_modules from installing the
# packed kratos-kube into an empty app with --omit=dev, i.e. the package's
# production dependencies and its peers (connect, connect-node, protobuf).
# No repository, no dev tooling, no test-only code.
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm run build && mkdir /pkg && npm pack --pack-destination /pkg

FROM node:24-slim AS deps
WORKDIR /app
COPY --from=build /pkg/ /pkg/
RUN npm init -y >/dev/null && npm pkg set type=module \
 && npm install --omit=dev --ignore-scripts --no-audit --no-fund /pkg/kratos-kube-*.tgz

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/proto/gen/helloworld_pb.ts /src/proto/gen/health_pb.ts ./proto/gen/
COPY --from=build /src/src/connect/gen ./src/connect/gen
COPY --from=build /src/deploy/examples/sayhello.ts ./deploy/examples/
# The numeric uid of node:24-slim's "node" user: runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 9000
# SIGTERM (after the preStop pause) starts the graceful shutdown in the example.
STOPSIGNAL SIGTERM
CMD ["node", "deploy/examples/sayhello.ts"]
