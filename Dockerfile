# StreamScore worker image: built with Swift 6.3 on Debian bookworm, run on
# debian:bookworm-slim with librdkafka and hiredis only (the Swift runtime is linked
# statically).
#
#   docker build -t streamscore .
#   docker build --build-arg CPU_FLAGS= -t streamscore:portable .   # any x86-64 or arm64 CPU
#
# CPU floor: by default the release build targets x86-64 with AVX2 and FMA (Intel Haswell,
# 2013, and AMD Excavator or later), as `make release` does; on an older CPU it stops with
# an illegal instruction. CPU_FLAGS= builds the portable kernels (plain Swift SIMD,
# correct everywhere, slower).

FROM swift:6.3-bookworm AS build
ARG CPU_FLAGS="-Xswiftc -target-cpu -Xswiftc haswell -Xswiftc -DSTREAMSCORE_FMA -Xswiftc -DSTREAMSCORE_AVX2"
RUN apt-get update \
    && apt-get install -y --no-install-recommends librdkafka-dev=2.0.2-1 libhiredis-dev=0.14.1-3 pkg-config=1.8.1-1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the manifest changes.
COPY Package.swift ./
RUN swift package resolve
COPY Sources ./Sources
# SwiftPM checks every declared target's folder; the embedded demo model links into Models.
COPY Tests ./Tests
COPY Models ./Models
# CPU_FLAGS is a list of compiler arguments: split on purpose.
# hadolint ignore=SC2086
RUN swift build -c release --product streamscore --static-swift-stdlib $CPU_FLAGS \
    && install -D "$(swift build -c release --show-bin-path)/streamscore" /out/streamscore

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends librdkafka1=2.0.2-1 libhiredis0.14=0.14.1-3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /opt/streamscore --shell /usr/sbin/nologin streamscore
COPY --from=build /out/streamscore /usr/local/bin/streamscore
WORKDIR /opt/streamscore
# The shipped configuration and models: Configs/streamscore.yaml names Models/fraud-xgb.json
# relative to this directory. Mount your own over /opt/streamscore/Configs and Models.
COPY Configs ./Configs
COPY Models ./Models
USER 10001:10001
ENV STREAMSCORE_METRICS_LISTEN=0.0.0.0:9464
EXPOSE 9464
# SIGTERM stops gracefully (finish in-flight records, flush, commit) within
# shutdown.timeout_ms; give the container at least that long to stop.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["streamscore", "health", "--port", "9464"]
ENTRYPOINT ["streamscore"]
CMD ["run", "--config", "Configs/streamscore.yaml"]
