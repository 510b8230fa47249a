# dcs-wait in a container image: the static musl binary and the CA certificates, nothing else.
#
#   docker build -t dcs-wait .                    # scratch: ENTRYPOINT dcs-wait
#   docker build -t dcs-wait:alpine --target alpine .   # with a shell, for CI job images
#
# What this image holds is what .ci/static runs in an empty root on every CI run (the binary,
# and the CA bundle at /etc/ssl/certs/ca-certificates.crt); the docker build itself has not
# been run here, where no Docker daemon runs.

FROM rust:1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/*
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl --bins

# A shell, for CI systems whose job image needs one (GitLab's Docker executor does).
FROM alpine:3 AS alpine
RUN apk add --no-cache ca-certificates
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/dcs-wait /usr/local/bin/dcs-wait
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/dcs-sim /usr/local/bin/dcs-sim
CMD ["dcs-wait", "--help"]

# The default: nothing but the binary and the trust roots.
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/dcs-wait /dcs-wait
ENTRYPOINT ["/dcs-wait"]
