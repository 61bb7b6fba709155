/// Reads of the series store and the catalogue (the API's side; see `SeriesCodec` for bytes).
extension History {
    /// The spans that may hold points from `range`, ascending by start.
    public func spans(overlapping range: ClosedRange<Int64>) async throws(RedisError) -> [SeriesSpan] {
        let widest = RetentionPolicy.Granularity.day.spanMilliseconds
        let (low, overflow) = range.lowerBound.subtractingReportingOverflow(widest)
        return try await redis.zrangeByScore(keys.seriesSpans, minimum: String(overflow ? Int64.min : low), maximum: String(range.upperBound))
            .compactMap { SeriesSpan(member: $0.member) }
            .filter { $0.end > range.lowerBound }
            .sorted()
    }

    /// Every span the index names, ascending by start.
    public func allSpans() async throws(RedisError) -> [SeriesSpan] {
        try await redis.zrangeByScore(keys.seriesSpans, minimum: "-inf", maximum: "+inf").compactMap { SeriesSpan(member: $0.member) }.sorted()
    }

    /// Every span's change counter (see `HistoryKeys.seriesVersions`).
    public func seriesVersions() async throws(RedisError) -> [String: Int64] {
        try await redis.send(["HGETALL", RedisArgument(keys.seriesVersions)]).fieldMap.compactMapValues { Int64($0) }
    }

    /// One asset's stored points in each of `spans`, in the same order: one pipelined read of
    /// that asset's field (and a raw span's times), nothing of other assets.
    public func points(of cmcId: Int64, in spans: [SeriesSpan]) async throws(HistoryReadError) -> [[PriceBucket]] {
        let field = RedisArgument(String(cmcId))
        let replies: [RedisValue]
        do {
            replies = try await redis.pipeline(spans.map { ["HMGET", RedisArgument(keys.series($0)), RedisArgument(SeriesCodec.timesField), field] })
        } catch {
            throw .redis(error)
        }
        var result: [[PriceBucket]] = []
        result.reserveCapacity(spans.count)
        for (span, reply) in zip(spans, replies) {
            let values = reply.array ?? []
            guard values.count == 2, let bytes = values[1].bytes else {
                result.append([])
                continue
            }
            do {
                result.append(try SeriesCodec.points(bytes, span: span, times: values[0].bytes))
            } catch {
                throw .corrupt(key: "\(keys.series(span)) field \(cmcId)", detail: error.detail)
            }
        }
        return result
    }

    /// Every asset's stored points in `span` (one `HGETALL`), by CMC id, for readers that
    /// want all assets at once (the rankings at start). A field that does not decode is left
    /// out and named in `corrupt` with why; a raw span whose times do not decode is corrupt
    /// as a whole.
    public func pointsOfEveryAsset(in span: SeriesSpan) async throws(HistoryReadError) -> (
        points: [Int64: [PriceBucket]], corrupt: [(key: String, detail: String)]
    ) {
        let fields: [String: [UInt8]]
        do { fields = try await binaryHash(keys.series(span)) } catch { throw .redis(error) }
        let times = fields[SeriesCodec.timesField]
        var points: [Int64: [PriceBucket]] = [:]
        var corrupt: [(key: String, detail: String)] = []
        for (field, bytes) in fields where field != SeriesCodec.timesField {
            guard let cmcId = Int64(field) else {
                corrupt.append(("\(keys.series(span)) field \(field)", "not a CMC id"))
                continue
            }
            do {
                points[cmcId] = try SeriesCodec.points(bytes, span: span, times: times)
            } catch {
                corrupt.append(("\(keys.series(span)) field \(field)", error.detail))
            }
        }
        return (points, corrupt)
    }

    /// The catalogue the merger last wrote; nil before the first merge.
    public func catalogue() async throws(HistoryReadError) -> Catalogue? {
        let bytes: [UInt8]?
        do { bytes = try await redis.get(keys.catalogue) } catch { throw .redis(error) }
        guard let bytes else { return nil }
        do { return try Catalogue(encoded: bytes) } catch { throw .corrupt(key: keys.catalogue, detail: error.detail) }
    }

    /// A hash whose values are binary (`HGETALL` as bytes).
    func binaryHash(_ key: String) async throws(RedisError) -> [String: [UInt8]] {
        let items = try await redis.send(["HGETALL", RedisArgument(key)]).array ?? []
        var result: [String: [UInt8]] = [:]
        var index = 0
        while index + 1 < items.count {
            if let field = items[index].string, let value = items[index + 1].bytes { result[field] = value }
            index += 2
        }
        return result
    }
}
