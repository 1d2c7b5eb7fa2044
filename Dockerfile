# syntax=docker/dockerfile:1
FROM golang:1.27-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/alertgate ./cmd/alertgate \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/alertgate /usr/local/bin/alertgate
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
USER 65532:65532
# A container is reached through its published port, so it listens on every
# interface. alertgate refuses to serve such an address while anything takes
# requests without credentials, and says what to set: mount a config
# (serve --config /etc/alertgate/alertgate.yml) that sets server.api_token
# and every source's auth (bearer_token, basic or hmac), as ${ENV_VAR}s or
# *_file secrets — or, on a network only trusted hosts reach,
# server.allow_unauthenticated: true. --listen overrides this.
ENV ALERTGATE_LISTEN=0.0.0.0:8080
EXPOSE 8080
VOLUME ["/data"]
ENTRYPOINT ["/usr/local/bin/alertgate"]
CMD ["serve"]
