/// How far one asset's backfill from one source has come, stored beside its candles in the
/// same atomic write (`History.storeCandles`): the days from `oldest` through `newest` have
/// been asked of the upstream and every valid candle it gave for them is stored, and
/// `exhausted` says the upstream holds nothing older than `oldest`. So a restart asks only for
/// what lies outside those days, and an update only for the days after `newest`.
///
/// Stored as JSON text, readable with `redis-cli HGET '{topcoins}:backfill:<source>' <cmc_id>`:
/// `{"oldest":"2021-01-01","newest":"2022-12-31","exhausted":false}`.
public struct BackfillProgress: Sendable, Equatable {
    public var oldest: UTCDay
    public var newest: UTCDay
    public var exhausted: Bool

    public init(oldest: UTCDay, newest: UTCDay, exhausted: Bool) {
        self.oldest = oldest
        self.newest = newest
        self.exhausted = exhausted
    }

    public var encoded: String {
        let object = JSONObject([("oldest", .string(oldest.description)), ("newest", .string(newest.description)), ("exhausted", .bool(exhausted))])
        return String(decoding: JSONWriter.encode(.object(object)), as: UTF8.self)
    }

    /// Parses stored progress; nil for anything `encoded` did not write (stored data is input too).
    public init?(encoded text: String) {
        guard let document = try? JSONParser.parse(Array(text.utf8)), case .object(let object) = document, object.count == 3,
            case .string(let oldestText)? = object["oldest"], case .string(let newestText)? = object["newest"],
            case .bool(let exhausted)? = object["exhausted"], oldestText.count == 10, newestText.count == 10,
            let oldest = UTCDay(iso8601: oldestText), let newest = UTCDay(iso8601: newestText), oldest <= newest,
            oldest.start >= Timestamp.earliestPlausible, newest.start <= Timestamp.latestRepresentable
        else { return nil }
        self.init(oldest: oldest, newest: newest, exhausted: exhausted)
    }
}
