# Build from the repository root:
#   docker build -f deploy/micro-forge.Dockerfile -t kratos-kube/micro-forge:latest .
# Node 24 runs the example's TypeScript directly (type stripping); the example
# imports only the built package ("kratos-kube", "kratos-kube/connect") and the
# generated helloworld/health descriptors in proto/gen.
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/proto/gen ./proto/gen
COPY --from=build /app/deploy/examples ./deploy/examples
USER node
EXPOSE 9000
# SIGTERM (after the preStop pause) starts the graceful shutdown in the example.
STOPSIGNAL SIGTERM
CMD ["node", "deploy/examples/micro-forge.ts"]
