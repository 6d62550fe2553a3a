# Build a static cognate binary, then ship it alone on a distroless base as
# a non-root user.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/cognate ./cmd/cognate

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/cognate /usr/local/bin/cognate
# The data file lives in a volume owned by the nonroot user (65532).
WORKDIR /var/lib/cognate
VOLUME ["/var/lib/cognate"]
EXPOSE 8080
USER nonroot:nonroot
ENTRYPOINT ["/usr/local/bin/cognate"]
CMD ["serve", "--listen", ":8080", "--data", "/var/lib/cognate/cognate.db"]
