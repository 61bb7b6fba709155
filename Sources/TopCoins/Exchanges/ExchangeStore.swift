/// Where the exchange fetcher's runs live, behind one owner. Keys (under the history's hash
/// tag, so the one swap script touches a single Redis Cluster slot):
///
///     {topcoins}:exchanges:run:<fetched_at ms>  string  ExchangeTables JSON of one run
///     {topcoins}:exchanges:current              string  the run id in service
///     {topcoins}:exchanges:previous             string  the run before it, still readable
///
/// A run is written and put in service by one script, so a reader sees the old tables or the
/// new ones, never a mix, and a run that fails before it never touches what is in service.
/// The run before the previous one is deleted by the same script.
public struct ExchangeStore: Sendable {
    let redis: RedisClient
    let prefix: String

    public init(redis: RedisClient, prefix: String = HistoryKeys.defaultPrefix) {
        self.redis = redis
        self.prefix = prefix
    }

    public var currentKey: String { "\(prefix):exchanges:current" }
    public var previousKey: String { "\(prefix):exchanges:previous" }
    public func runKey(_ id: String) -> String { "\(prefix):exchanges:run:\(id)" }

    /// Which run: the one in service, or the one it replaced.
    public enum Which: String, Sendable {
        case current, previous
    }

    static let swapScript = """
        local current = redis.call('GET', KEYS[1])
        local previous = redis.call('GET', KEYS[2])
        redis.call('SET', ARGV[3] .. ARGV[1], ARGV[2])
        if current and current ~= ARGV[1] then
          redis.call('SET', KEYS[2], current)
          if previous and previous ~= current then redis.call('DEL', ARGV[3] .. previous) end
        end
        redis.call('SET', KEYS[1], ARGV[1])
        return 1
        """

    /// Stores `tables` as a new run and puts it in service; the run it replaces stays as `previous`.
    public func putInService(_ tables: ExchangeTables) async throws(RedisError) {
        _ = try await redis.eval(
            ExchangeStore.swapScript, keys: [currentKey, previousKey],
            arguments: [RedisArgument(String(tables.fetchedAt.milliseconds)), RedisArgument(tables.encoded), RedisArgument(runKey(""))])
    }

    /// The run asked for, or nil when there is none yet; stored tables that do not decode are an error.
    public func tables(_ which: Which = .current) async throws -> ExchangeTables? {
        guard let id = try await redis.get(which == .current ? currentKey : previousKey),
            let bytes = try await redis.get(runKey(String(decoding: id, as: UTF8.self)))
        else { return nil }
        return try ExchangeTables(decoding: bytes)
    }
}
