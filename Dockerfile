# dcs-wait in a container image: the static musl binary and the CA certificates, nothing else.
#
#   docker build -t dcs-wait .                          # scratch: ENTRYPOINT dcs-wait
#   docker build -t dcs-wait:alpine --target alpine .   # with a shell, for CI job images
#   docker build -t dcs-sim --target sim .              # dcs-sim, to try dcs-wait against
#
# Both images that carry dcs-wait run it as an unprivileged user, and neither holds dcs-sim
# (a test server has no place in a production job's image).
#
# The base images are pinned by digest, so that a build today and a build next month start
# from the same bytes; the tag each digest stood for is beside it. The digests were taken from
# public Dockerfiles that pin the same tag (this project's CI reaches no container registry,
# so they were not resolved here). To move to a newer base, resolve the tag and replace the
# digest:
#
#   docker buildx imagetools inspect rust:1-bookworm --format '{{json .Manifest.Digest}}'
#   docker buildx imagetools inspect alpine:3 --format '{{json .Manifest.Digest}}'
#
# What this image holds is what .ci/static runs in an empty root on every CI run (the binary,
# and the CA bundle at /etc/ssl/certs/ca-certificates.crt); the docker build itself has not
# been run here, where no Docker daemon runs.

# rust:1-bookworm
FROM rust:1-bookworm@sha256:93ce27a88655056a51dbdd8f5f2d7ddc071c7b0070fb288a37b5a285fc83971e AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends musl-tools \
    && rm -rf /var/lib/apt/lists/*
RUN rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl --bins

# A shell, for CI systems whose job image needs one (GitLab's Docker executor does).
# alpine:3
FROM alpine:3@sha256:28bd5fe8b56d1bd048e5babf5b10710ebe0bae67db86916198a6eec434943f8b AS alpine
RUN apk add --no-cache ca-certificates \
    && adduser -D -H -u 10001 dcs-wait
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/dcs-wait /usr/local/bin/dcs-wait
USER 10001:10001
CMD ["dcs-wait", "--help"]

# dcs-sim alone, for trying dcs-wait out: `docker run -p 8080:8080 dcs-sim`.
# alpine:3
FROM alpine:3@sha256:28bd5fe8b56d1bd048e5babf5b10710ebe0bae67db86916198a6eec434943f8b AS sim
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/dcs-sim /usr/local/bin/dcs-sim
USER 10001:10001
ENTRYPOINT ["dcs-sim", "--listen", "0.0.0.0:8080"]

# The default: nothing but the binary and the trust roots, run as the conventional
# unprivileged "nonroot" id (scratch has no /etc/passwd to name a user in).
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /src/target/x86_64-unknown-linux-musl/release/dcs-wait /dcs-wait
USER 65532:65532
ENTRYPOINT ["/dcs-wait"]
