# syntax=docker/dockerfile:1
#
# wsstorm's container image: one static binary on distroless, run as a
# non-root user. Build from the repository's root:
#
#   docker build -t ghcr.io/wsstorm/wsstorm:latest --build-arg VERSION=v0.1.0 .
#
# For several platforms: docker buildx build --platform linux/amd64,linux/arm64 ...
# The Kubernetes manifests in deploy/kubernetes run this image.

# The build runs on the builder's own platform and cross-compiles, which Go
# does without emulation (CGO is off).
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
WORKDIR /src
# Modules first: a change to the source alone does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Set by BuildKit to the platform being built.
ARG TARGETOS
ARG TARGETARCH
# What `wsstorm version` prints; "devel" when empty.
ARG VERSION=""
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/wsstorm ./cmd/wsstorm

# static-debian12 has CA certificates (for wss:// targets and https:// hooks),
# tzdata and /etc/passwd with the "nonroot" user, and no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/wsstorm /wsstorm
# Numeric, so that Kubernetes' runAsNonRoot can verify it without a passwd lookup.
USER 65532:65532
ENTRYPOINT ["/wsstorm"]
