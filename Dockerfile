# run-it server image: the whole IDE (UI and server) in a small Debian 12 image.
#
#   ui      Node.js from Debian; ui/build (npm ci + esbuild, as scripts/start)
#   build   the C server with Debian's -dev packages (Release, no tests)
#   final   the shared libraries only, the server, the built UI, the runtime
#           recipes; runs as the unprivileged user run-it (uid 10001)
#
# No registry? deploy/debian-base makes debian:12 locally (debootstrap). The
# image applies database migrations at start (`run-it serve`), prints where it
# listens, and can create the first admin from RUNIT_ADMIN_USER and
# RUNIT_ADMIN_PASSWORD_FILE. README "Deployment" tells the rest.
FROM debian:12 AS ui
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# a TLS-intercepting proxy's certificate authority, if any (deploy/ca/README.md)
COPY deploy/ca/ /usr/local/share/ca-certificates/run-it/
RUN update-ca-certificates >/dev/null
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
WORKDIR /src/ui
# packages first: this layer is reused while package-lock.json is unchanged
COPY ui/package.json ui/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.runit-lock
COPY ui/ ./
RUN ./build && test -s dist/app.js

FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libwebsockets-dev libwebsockets-evlib-uv libuv1-dev \
      libjansson-dev libpq-dev libcurl4-openssl-dev libsodium-dev liboath-dev libssl-dev libunistring-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY protocol protocol
COPY platforms platforms
COPY sql sql
COPY server server
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRUNIT_TESTS=OFF >/dev/null \
    && cmake --build build -j"$(nproc)" \
    && strip build/server/run-it

FROM debian:12
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libwebsockets17 libwebsockets-evlib-uv libuv1 libjansson4 libpq5 libcurl4 libsodium23 \
      liboath0 libunistring2 libssl3 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/* \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/run-it --create-home \
         --shell /usr/sbin/nologin run-it
COPY --from=build /src/build/server/run-it /usr/local/bin/run-it
COPY --from=ui /src/ui/dist /usr/share/run-it/ui
COPY images/recipes.json /usr/share/run-it/images/recipes.json
ENV RUNIT_LISTEN=0.0.0.0:8080 \
    RUNIT_DATA_DIR=/var/lib/run-it \
    RUNIT_UI_DIR=/usr/share/run-it/ui \
    RUNIT_ROOT=/usr/share/run-it
USER run-it:run-it
WORKDIR /var/lib/run-it
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${RUNIT_LISTEN##*:}/healthz" || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/run-it"]
CMD ["serve"]
