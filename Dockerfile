# syntax=docker/dockerfile:1
#
# The soomcare binary (serve, cdc, migrate, seed, reindex) in a small runtime image.
#
#   docker build -t soomcare .          # or: docker compose build
#   docker run --rm soomcare --help
#
# Migrations, index mappings and analyzers are embedded with go:embed, so the binary is all the image needs.

# ---- build ---------------------------------------------------------------------------------------------
# The golang image sets GOTOOLCHAIN=local: this tag must provide at least the go line of go.mod.
FROM golang:1.26 AS build
WORKDIR /src

# Static binary: the runtime is Alpine (musl), and nothing here needs cgo.
ENV CGO_ENABLED=0

# Dependencies first, so a source change does not re-download modules.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download

COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -o /out/soomcare ./cmd/soomcare

# ---- runtime -------------------------------------------------------------------------------------------
# Alpine rather than distroless: compose healthchecks use wget against /readyz.
FROM alpine:3.22

# ca-certificates: https search addresses (AWS OpenSearch Service, Elastic Cloud).
# tzdata: time.LoadLocation("Asia/Seoul") for KST display; stored times stay UTC.
# wget: healthchecks (GNU wget; exits non-zero on HTTP errors such as 503 from /readyz).
RUN apk add --no-cache ca-certificates tzdata wget \
 && addgroup -S -g 10001 soomcare \
 && adduser -S -D -H -u 10001 -G soomcare -s /sbin/nologin soomcare

COPY --from=build /out/soomcare /usr/local/bin/soomcare

# Numeric so that runAsNonRoot checks (Kubernetes) can verify it without /etc/passwd.
USER 10001:10001

# 8080: serve (http.addr); 9102: cdc metrics (cdc.metrics_addr). Both default to 127.0.0.1 in the
# configuration: a container must set SOOMCARE_HTTP_ADDR / SOOMCARE_CDC_METRICS_ADDR to 0.0.0.0:PORT.
EXPOSE 8080 9102

ENTRYPOINT ["soomcare"]
CMD ["serve"]
