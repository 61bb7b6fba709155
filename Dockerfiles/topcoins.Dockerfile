# One image for the TopCoins services (and the fake upstream for the keyless demo).
# Build stage and runtime stage are both Debian bookworm, so the runtime's libhiredis0.14
# is the ABI the binaries were linked against.

FROM swift:6.3-bookworm AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libhiredis-dev libcurl4-openssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Resolve first: this layer is reused until Package.swift changes (resolving reads only the manifest).
COPY Package.swift ./
RUN swift package resolve
# Building loads the whole manifest, which names the benchmark and the test targets too: every
# folder it names must be here (scripts/check-docker-context replays this).
COPY Sources ./Sources
COPY Benchmarks ./Benchmarks
COPY Tests ./Tests
RUN swift build -c release --static-swift-stdlib \
    && mkdir /out \
    && cd "$(swift build -c release --show-bin-path)" \
    && cp price-fetcher rank-fetcher history-fetcher book-fetcher exchange-fetcher merger spread-monitor http-api fake-upstream /out/

FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        libhiredis0.14 libcurl4 ca-certificates tzdata curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin topcoins
WORKDIR /app
COPY --from=build /out/ /usr/local/bin/
COPY Config ./Config
COPY Dockerfiles/entrypoint.sh /usr/local/bin/topcoins
USER topcoins
ENTRYPOINT ["/usr/local/bin/topcoins"]
