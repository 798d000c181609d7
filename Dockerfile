# Multi-stage build of the Pulang API. The runtime image holds only the binary
# and runs as an unprivileged user; the database comes from DATABASE_URL.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY migrations ./migrations
COPY data ./data
RUN cargo build --release --locked --bin pulang

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /nonexistent --shell /usr/sbin/nologin pulang
COPY --from=build /src/target/release/pulang /usr/local/bin/pulang
USER pulang
ENV PULANG_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/pulang"]
CMD ["serve"]
