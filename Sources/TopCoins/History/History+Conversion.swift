import Logging

/// The one-time conversion of snapshot history written before the series store existed:
/// every such snapshot's rows become points in their assets' series, and its assets enter
/// the catalogue. Resumable (a checkpoint every `checkpointInterval` snapshots; a snapshot
/// whose time its span already holds is not appended again) and idempotent.
extension History {
    public struct ConversionReport: Sendable, Equatable {
        public var converted = 0
        /// Snapshots whose points were there already (a resumed run) or whose body was gone.
        public var skipped = 0
        /// Snapshots that do not decode, left as they are.
        public var corrupt = 0
    }

    static let checkpointInterval = 256

    /// Appends one old snapshot's points (ARGV from 4 on, as `appendPoints` takes them) unless
    /// its span lists its time already; at a checkpoint (ARGV[2], the catalogue, not empty)
    /// also writes the catalogue and the progress mark (ARGV[3]).
    static let convertScript = appendPointsLua + """

        if redis.call('GET', KEYS[4]) ~= ARGV[1] then return -2 end
        local times = redis.call('HGET', KEYS[1], 't') or ''
        local present = false
        for i = 1, #times, 8 do
          if string.sub(times, i, i + 7) == ARGV[4] then present = true; break end
        end
        if not present and #ARGV > 6 then appendPoints(KEYS[1], KEYS[2], KEYS[3], 4) end
        if ARGV[2] ~= '' then
          redis.call('SET', KEYS[6], ARGV[2])
          redis.call('HSET', KEYS[5], 'through', ARGV[3])
        end
        return present and 0 or 1
        """

    /// Converts what is left to convert; at the first run it fixes the newest snapshot there
    /// is as the end (everything after it is written with its series). Keeps `registry` and
    /// `catalogue` (the merger's copies) current; nil when the lease was lost on the way.
    public func convertOlderHistory(
        registry: inout AssetRegistry, catalogue: inout Catalogue, hold: inout LeaseHold, logger: Logger
    ) async throws(RedisError) -> ConversionReport? {
        let newest = try await redis.zrevrangeByScore(keys.history, maximum: "+inf", minimum: "-inf", limit: 1).first?.score ?? 0
        try await redis.send(["HSETNX", RedisArgument(keys.seriesConversion), "until", RedisArgument(newest)])
        let progress = try await redis.hgetall(keys.seriesConversion)
        let until = progress["until"].flatMap { Int64($0) } ?? 0
        let through = progress["through"].flatMap { Int64($0) } ?? Int64.min
        var report = ConversionReport()
        guard through < until else { return report }
        let pending = try await redis.zrangeByScore(keys.history, minimum: through == Int64.min ? "-inf" : "(\(through)", maximum: String(until)).map(\.score)
        guard !pending.isEmpty else { return report }
        logger.info("converting snapshot history into series", metadata: ["snapshots": "\(pending.count)", "until": "\(Timestamp(milliseconds: until))"])
        let started = ContinuousClock.now
        for (position, milliseconds) in pending.enumerated() {
            guard try await hold.keep() else { return nil }
            let time = Timestamp(milliseconds: milliseconds)
            var snapshot: MergedSnapshot?
            if let body = try await body(at: time) {
                do {
                    snapshot = try await decode(body, registry: &registry)
                } catch {
                    report.corrupt += 1
                    logger.error("stored snapshot does not decode, not converted", metadata: ["key": "\(keys.snapshot(time))", "reason": "corrupt_snapshot", "error": "\(error)"])
                }
            } else {
                // Retention removed it since the list was read.
                report.skipped += 1
            }
            for row in snapshot?.rows ?? [] { catalogue.record(.init(cmcId: row.cmcId, symbol: row.symbol, name: row.name), at: time) }
            let checkpoint = position == pending.count - 1 || (position + 1) % History.checkpointInterval == 0
            let span = SeriesSpan(granularity: .snapshot, containing: milliseconds)
            var arguments: [RedisArgument] = [RedisArgument(hold.lease.token), checkpoint ? RedisArgument(catalogue.encoded) : "", RedisArgument(milliseconds)]
            arguments += snapshot.map { History.pointArguments($0, span: span) } ?? [RedisArgument(SeriesCodec.time(time)), RedisArgument(span.start), RedisArgument(span.member)]
            let result = try await redis.eval(
                History.convertScript,
                keys: [keys.series(span), keys.seriesSpans, keys.seriesVersions, keys.mergerLease, keys.seriesConversion, keys.catalogue], arguments: arguments)
            guard result.int != -2 else {
                hold.lost()
                return nil
            }
            if snapshot != nil {
                if result.int == 1 { report.converted += 1 } else { report.skipped += 1 }
            }
        }
        logger.info(
            "converted snapshot history into series",
            metadata: [
                "converted": "\(report.converted)", "skipped": "\(report.skipped)", "corrupt": "\(report.corrupt)",
                "duration_ms": "\(started.duration(to: .now).milliseconds)", "catalogue_assets": "\(catalogue.count)",
            ])
        return report
    }

    /// A stored snapshot decoded with `registry`, refreshed from Redis when it names assets the
    /// copy lacks.
    func decode(_ body: [UInt8], registry: inout AssetRegistry) async throws -> MergedSnapshot {
        do {
            return try SnapshotCodec.decode(body, registry: registry)
        } catch .unknownAsset {
            try await refresh(&registry)
            return try SnapshotCodec.decode(body, registry: registry)
        }
    }
}
