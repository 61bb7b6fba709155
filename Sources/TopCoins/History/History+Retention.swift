import Logging

/// Retention: snapshots thinned to one per bucket, series spans folded into OHLC buckets or
/// deleted as their tier says, and closed raw hours compacted.
extension History {
    /// Thins history older than each tier's age, from where the previous run stopped, then
    /// the series; false when the lease was lost on the way.
    public func applyRetention(_ policy: RetentionPolicy, now: Timestamp, hold: inout LeaseHold, logger: Logger) async throws(RedisError) -> Bool {
        try await thinSnapshots(policy, now: now, logger: logger)
        for span in try await allSpans() {
            guard try await hold.keep() else { return false }
            switch policy.fate(of: span, now: now) {
            case .keep: continue
            case .thin(let granularity):
                guard try await thin(span, into: granularity, lease: hold.lease, logger: logger) else { return fencedOff(&hold) }
            case .delete:
                guard try await thin(span, into: nil, lease: hold.lease, logger: logger) else { return fencedOff(&hold) }
            }
        }
        return try await compactClosedHours(now: now, hold: &hold, logger: logger)
    }

    /// A script refused the lease token: another merger holds the lease now.
    func fencedOff(_ hold: inout LeaseHold) -> Bool {
        hold.lost()
        return false
    }

    func thinSnapshots(_ policy: RetentionPolicy, now: Timestamp, logger: Logger) async throws(RedisError) {
        let marks = try await redis.hgetall(keys.retention).reduce(into: [Int: Int64]()) { result, pair in
            if let tier = Int(pair.key), let mark = Timestamp(plausibleText: pair.value) { result[tier] = mark.milliseconds }
        }
        for step in policy.steps(now: now, marks: marks) {
            let timestamps = try await redis.zrangeByScore(
                keys.history, minimum: String(step.range.lowerBound), maximum: String(step.range.upperBound)
            ).map(\.score)
            let doomed = RetentionPolicy.deletions(in: timestamps, step: step)
            if !doomed.isEmpty {
                let members = doomed.map { RedisArgument($0) }
                let snapshotKeys = doomed.map { RedisArgument(keys.snapshot(Timestamp(milliseconds: $0))) }
                _ = try await redis.transaction([["ZREM", RedisArgument(keys.history)] + members, ["DEL"] + snapshotKeys])
                logger.info("retention removed snapshots", metadata: ["count": "\(doomed.count)", "tier": "\(step.tierIndex)"])
            }
            if step.tierIndex < policy.tiers.count {
                try await redis.hset(keys.retention, [(String(step.tierIndex), RedisArgument(step.range.upperBound))])
            }
        }
    }

    /// Appends each (field, records) pair to the target span's fields, then deletes the source
    /// span, all at once; an empty target member only deletes. A source already gone is only
    /// dropped from the index, so a repeated run changes nothing.
    static let thinScript = """
        if redis.call('GET', KEYS[5]) ~= ARGV[1] then return -2 end
        local exists = redis.call('EXISTS', KEYS[1]) == 1
        if exists and ARGV[3] ~= '' then
          for i = 5, #ARGV, 2 do
            redis.call('HSET', KEYS[2], ARGV[i], (redis.call('HGET', KEYS[2], ARGV[i]) or '') .. ARGV[i + 1])
          end
          redis.call('ZADD', KEYS[3], ARGV[4], ARGV[3])
          redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
        end
        redis.call('DEL', KEYS[1])
        redis.call('ZREM', KEYS[3], ARGV[2])
        redis.call('HDEL', KEYS[4], ARGV[2])
        return exists and 1 or 0
        """

    /// Folds `span` into buckets of `granularity` (nil: deletes it); false when fenced off.
    func thin(_ span: SeriesSpan, into granularity: RetentionPolicy.Granularity?, lease: MergerLease, logger: Logger) async throws(RedisError) -> Bool {
        var arguments: [RedisArgument] = [RedisArgument(lease.token), RedisArgument(span.member)]
        var target = span
        if let granularity {
            target = SeriesSpan(granularity: granularity, containing: span.start)
            arguments += [RedisArgument(target.member), RedisArgument(target.start)]
            let fields = try await binaryHash(keys.series(span))
            var corrupt = 0
            for (field, bytes) in fields.sorted(by: { $0.key < $1.key }) where field != SeriesCodec.timesField {
                do {
                    let buckets = PriceBucket.aggregate(
                        try SeriesCodec.points(bytes, span: span, times: fields[SeriesCodec.timesField]), width: granularity.bucketMilliseconds)
                    arguments.append(RedisArgument(field))
                    arguments.append(RedisArgument(buckets.flatMap { SeriesCodec.bucketRecord($0, spanStart: target.start) }))
                } catch {
                    corrupt += 1
                    logger.error("series field does not decode, dropped by retention", metadata: ["span": "\(span.member)", "field": "\(field)", "reason": "corrupt_series", "error": "\(error)"])
                }
            }
            logger.info("retention folded a series span", metadata: ["span": "\(span.member)", "into": "\(target.member)", "assets": "\(fields.count - 1 - corrupt)"])
        } else {
            arguments += ["", ""]
            logger.info("retention deleted a series span", metadata: ["span": "\(span.member)"])
        }
        let result = try await redis.eval(
            History.thinScript, keys: [keys.series(span), keys.series(target), keys.seriesSpans, keys.seriesVersions, keys.mergerLease], arguments: arguments)
        return result.int != -2
    }

    /// The retention hash field: the start of the newest raw hour compacted.
    static let compactedMark = "series.compacted"

    /// Rewrites each field of a closed raw hour as one compact block (see `SeriesCodec`).
    static let compactScript = """
        if redis.call('GET', KEYS[2]) ~= ARGV[1] then return -2 end
        if redis.call('EXISTS', KEYS[1]) == 1 then
          for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
          redis.call('HINCRBY', KEYS[4], ARGV[3], 1)
        end
        redis.call('HSET', KEYS[3], 'series.compacted', ARGV[2])
        return 1
        """

    /// Compacts raw hours that closed over an hour before both `now` and the newest snapshot
    /// (new points land at the newest snapshot's time; later ones into a compacted hour are
    /// rare, append after the block and stay readable); false when fenced off.
    func compactClosedHours(now: Timestamp, hold: inout LeaseHold, logger: Logger) async throws(RedisError) -> Bool {
        let mark = try await redis.hgetall(keys.retention)[History.compactedMark].flatMap { Int64($0) } ?? Int64.min
        guard let latest = try await latestTimestamp() else { return true }
        let closedBefore = min(now, latest).milliseconds - 3_600_000
        for span in try await allSpans() where span.granularity == .snapshot && span.start > mark && span.end <= closedBefore {
            guard try await hold.keep() else { return false }
            let fields = try await binaryHash(keys.series(span))
            var arguments: [RedisArgument] = [RedisArgument(hold.lease.token), RedisArgument(span.start), RedisArgument(span.member)]
            var before = 0
            var after = 0
            for (field, bytes) in fields where field != SeriesCodec.timesField {
                guard let points = try? SeriesCodec.rawPoints(bytes) else { continue }
                let compact = SeriesCodec.compacted(points)
                before += bytes.count
                after += compact.count
                arguments.append(RedisArgument(field))
                arguments.append(RedisArgument(compact))
            }
            let result = try await redis.eval(
                History.compactScript, keys: [keys.series(span), keys.mergerLease, keys.retention, keys.seriesVersions], arguments: arguments)
            guard result.int != -2 else { return fencedOff(&hold) }
            logger.debug("compacted a raw hour", metadata: ["span": "\(span.member)", "bytes_before": "\(before)", "bytes_after": "\(after)"])
        }
        return true
    }
}

extension RetentionPolicy {
    /// What retention does with a series span at `now`.
    public enum SpanFate: Sendable, Equatable {
        case keep
        /// Fold into buckets of this (coarser) granularity.
        case thin(into: Granularity)
        case delete
    }

    /// A span is folded into the coarsest tier whose age it has wholly passed (when that tier
    /// is coarser than the span), or deleted once it is past the last tier's age.
    public func fate(of span: SeriesSpan, now: Timestamp) -> SpanFate {
        func boundary(_ days: Int) -> Int64 { now.milliseconds - Int64(days) * 86_400_000 }
        if let last = tiers.last, let days = last.forDays, span.end <= boundary(days) { return .delete }
        var fate = SpanFate.keep
        for index in tiers.indices.dropFirst() {
            guard let days = tiers[index - 1].forDays, span.end <= boundary(days) else { break }
            if tiers[index].every.order > span.granularity.order { fate = .thin(into: tiers[index].every) }
        }
        return fate
    }
}
