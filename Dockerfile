# run-it server image: build stage with the -dev packages, runtime stage with
# the shared libraries only. The UI is served from /usr/share/run-it/ui;
# `run-it seed /usr/share/run-it/recipes.json` installs the runtimes (their
# images come from images/build on the Docker host, or a registry).
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libwebsockets-dev libwebsockets-evlib-uv libuv1-dev \
      libjansson-dev libpq-dev libcurl4-openssl-dev libsodium-dev liboath-dev libssl-dev libunistring-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY server server
COPY protocol protocol
COPY platforms platforms
COPY sql sql
COPY tests tests
COPY ui ui
COPY images/recipes.json images/recipes.json
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DRUNIT_TESTS=OFF \
    && cmake --build build -j"$(nproc)" \
    && mkdir -p /out/ui && cp build/server/run-it images/recipes.json /out/ \
    && if [ -d ui/dist ]; then cp -r ui/dist/. /out/ui/; else cp -r ui/public/. /out/ui/; fi

FROM debian:12
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libwebsockets17 libwebsockets-evlib-uv libuv1 libjansson4 libpq5 libcurl4 libsodium23 \
      liboath0 libunistring2 ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/run-it --create-home run-it
COPY --from=build /out/run-it /usr/local/bin/run-it
COPY --from=build /out/ui /usr/share/run-it/ui
COPY --from=build /out/recipes.json /usr/share/run-it/recipes.json
ENV RUNIT_LISTEN=0.0.0.0:8080 RUNIT_DATA_DIR=/var/lib/run-it RUNIT_UI_DIR=/usr/share/run-it/ui
USER run-it
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["/usr/local/bin/run-it"]
CMD ["serve"]
