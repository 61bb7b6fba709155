/// What one successful fetch cycle publishes: every kept record, mapped through the config's
/// fields, in source order. On the stream it is one entry with the fields `source`,
/// `fetched_at` (unix ms), `count`, `records` (compact JSON array) and `skipped` (JSON object
/// of skip counts by reason).
public struct FetchedSnapshot: Sendable, Equatable {
    /// The field every published record carries: its 1-based position among all records of
    /// the fetch, skipped ones included, so positions never shift.
    public static let sourceRankField = "source_rank"

    public let source: String
    /// When the last page arrived.
    public let fetchedAt: Timestamp
    public let records: [JSONObject]
    /// Records left out, by `<problem>:<field>` (`missing:price_usd`, `invalid:cmc_id`).
    public let skipped: [String: Int]

    public init(source: String, fetchedAt: Timestamp, records: [JSONObject], skipped: [String: Int]) {
        self.source = source
        self.fetchedAt = fetchedAt
        self.records = records
        self.skipped = skipped
    }

    public var skippedCount: Int { skipped.values.reduce(0, +) }

    /// The stream entry's fields.
    public var streamFields: [(String, RedisArgument)] {
        var records = JSONWriter(reservingCapacity: self.records.count * 96)
        records.raw(UInt8(ascii: "["))
        for (index, record) in self.records.enumerated() {
            if index > 0 { records.raw(UInt8(ascii: ",")) }
            records.value(.object(record))
        }
        records.raw(UInt8(ascii: "]"))
        let skippedObject = JSONObject(skipped.sorted { $0.key < $1.key }.map { ($0.key, .number(String($0.value))) })
        return [
            ("source", RedisArgument(source)),
            ("fetched_at", RedisArgument(fetchedAt.milliseconds)),
            ("count", RedisArgument(self.records.count)),
            ("records", RedisArgument(records.bytes)),
            ("skipped", RedisArgument(JSONWriter.encode(.object(skippedObject)))),
        ]
    }

    /// Why a stream entry is not a readable snapshot message.
    public struct InvalidMessage: Error, Sendable, CustomStringConvertible {
        public let entryID: String
        public let reason: String
        public var description: String { "stream entry \(entryID): \(reason)" }
    }

    /// Reads a stream entry written by `streamFields`.
    public init(entry: StreamEntry) throws(InvalidMessage) {
        func fail(_ reason: String) -> InvalidMessage { InvalidMessage(entryID: entry.id, reason: reason) }
        guard let source = entry.text("source") else { throw fail("no source") }
        guard let fetchedAtText = entry.text("fetched_at") else { throw fail("no fetched_at") }
        guard let fetchedAt = Timestamp(plausibleText: fetchedAtText) else {
            throw fail("fetched_at \(fetchedAtText.prefix(40)) is not unix milliseconds from 2009-01-03 to 9999-12-31")
        }
        guard let recordsBytes = entry.field("records") else { throw fail("no records") }
        guard case .array(let elements)? = try? JSONParser.parse(recordsBytes) else { throw fail("records is not a JSON array") }
        var records: [JSONObject] = []
        records.reserveCapacity(elements.count)
        for element in elements {
            guard case .object(let object) = element else { throw fail("a record is not an object") }
            records.append(object)
        }
        var skipped: [String: Int] = [:]
        if let skippedBytes = entry.field("skipped"), case .object(let object)? = try? JSONParser.parse(skippedBytes) {
            for (reason, count) in object.members {
                if case .number(let literal) = count { skipped[reason] = Int(literal) }
            }
        }
        self.init(source: source, fetchedAt: fetchedAt, records: records, skipped: skipped)
    }
}
