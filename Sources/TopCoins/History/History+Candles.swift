/// Daily candles backfilled from an upstream's history (see `DailyCandle`): one hash per
/// asset, written by the history fetcher, read by the API at `interval=1d`.
extension History {
    /// Sets each candle's day (a re-run writes the same values, so storing is idempotent) and,
    /// in the same atomic write, the asset's progress field in `backfill(source)`: a fetcher
    /// killed between the two can never have recorded progress for days it did not store. The
    /// asset's counter moves only when a stored value changed, so a re-run leaves readers'
    /// caches alone. Returns how many days changed.
    public func storeCandles(_ candles: [DailyCandle], of cmcId: Int64, progress: (source: String, value: String)?) async throws(RedisError) -> Int {
        var arguments = [RedisArgument(String(cmcId)), RedisArgument(progress?.value ?? "")]
        arguments.reserveCapacity(2 + candles.count * 2)
        for candle in candles {
            arguments.append(RedisArgument(candle.field))
            arguments.append(RedisArgument(candle.encoded))
        }
        let reply = try await redis.eval(
            History.storeCandlesScript, keys: [keys.candles(cmcId), keys.candleVersions, keys.backfill(progress?.source ?? "")], arguments: arguments)
        return Int(reply.int ?? 0)
    }

    static let storeCandlesScript = """
        local changed = 0
        for i = 3, #ARGV, 2 do
          if redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then
            redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
            changed = changed + 1
          end
        end
        if changed > 0 then redis.call('HINCRBY', KEYS[2], ARGV[1], 1) end
        if ARGV[2] ~= '' then redis.call('HSET', KEYS[3], ARGV[1], ARGV[2]) end
        return changed
        """

    /// One asset's candles, ascending by day. A stored field that does not decode is an error
    /// naming the key, as a corrupt series field is.
    public func candles(of cmcId: Int64) async throws(HistoryReadError) -> [DailyCandle] {
        let fields: [String: String]
        do { fields = try await redis.send(["HGETALL", RedisArgument(keys.candles(cmcId))]).fieldMap } catch { throw .redis(error) }
        var result: [DailyCandle] = []
        result.reserveCapacity(fields.count)
        for (field, value) in fields {
            guard let candle = DailyCandle(field: field, encoded: value) else {
                throw .corrupt(key: "\(keys.candles(cmcId)) field \(field)", detail: "not a stored daily candle: \(value.prefix(80))")
            }
            result.append(candle)
        }
        return result.sorted { $0.day < $1.day }
    }

    /// Every asset with candles and its change counter.
    public func candleVersions() async throws(RedisError) -> [Int64: Int64] {
        var result: [Int64: Int64] = [:]
        for (field, value) in try await redis.send(["HGETALL", RedisArgument(keys.candleVersions)]).fieldMap {
            if let cmcId = Int64(field), let version = Int64(value) { result[cmcId] = version }
        }
        return result
    }

    /// A backfill source's progress per asset, as the fetcher wrote it.
    public func backfillProgress(_ source: String) async throws(RedisError) -> [Int64: String] {
        var result: [Int64: String] = [:]
        for (field, value) in try await redis.send(["HGETALL", RedisArgument(keys.backfill(source))]).fieldMap {
            if let cmcId = Int64(field) { result[cmcId] = value }
        }
        return result
    }
}
