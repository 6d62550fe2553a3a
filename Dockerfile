# Build a static cognate binary, then ship it alone on a distroless base as
# a non-root user.
#
# Verified with buildah (docs/docker.md). The Go version matches go.mod:
# the golang image sets GOTOOLCHAIN=local, so an older 1.26.x would refuse it.
FROM golang:1.26.8 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cognate ./cmd/cognate \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cognate /usr/local/bin/cognate
# The data directory belongs to the nonroot user (65532) whatever the
# builder does with WORKDIR: without this, some builders create it owned by
# root and the server cannot create its data file.
COPY --from=build --chown=65532:65532 /out/data /var/lib/cognate
WORKDIR /var/lib/cognate
VOLUME ["/var/lib/cognate"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/cognate"]
# Without a base URL (--base-url or COGNATE_BASE_URL) the server starts in
# development mode with a demo organization; set one to run it for real.
CMD ["serve", "--listen", ":8080", "--data", "/var/lib/cognate/cognate.db"]
