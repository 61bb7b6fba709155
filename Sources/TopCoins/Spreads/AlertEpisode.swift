/// One stretch of time a book's spread stood above its threshold: opened on the breach that
/// met `min_consecutive`, closed on the first unflagged spread below `clear_below_pct`.
/// Stored as its JSON (the `/alerts` element) and announced on `topcoins:alerts` when it
/// opens and when it closes.
public struct AlertEpisode: Sendable, Equatable {
    public enum State: String, Sendable {
        case open, closed
    }

    public let book: String
    public var state: State
    /// The threshold in force when it opened.
    public let thresholdPct: DecimalNumber
    public let startedAt: Timestamp
    public var endedAt: Timestamp?
    /// The widest unflagged spread while open.
    public var peakSpreadPct: DecimalNumber

    public init(book: String, state: State, thresholdPct: DecimalNumber, startedAt: Timestamp, endedAt: Timestamp?, peakSpreadPct: DecimalNumber) {
        self.book = book
        self.state = state
        self.thresholdPct = thresholdPct
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.peakSpreadPct = peakSpreadPct
    }

    /// Unique per book and start, stable across restarts: `btc_mxn-1764601200000`.
    public var id: String { "\(book)-\(startedAt.milliseconds)" }

    public var json: JSONValue {
        .object(
            JSONObject([
                ("id", .string(id)), ("book", .string(book)), ("state", .string(state.rawValue)), ("threshold_pct", .number(thresholdPct.text)),
                ("started_at", .string(startedAt.iso8601)), ("ended_at", endedAt.map { .string($0.iso8601) } ?? .null),
                ("peak_spread_pct", .number(peakSpreadPct.text)),
            ]))
    }

    /// Reads what `json` wrote (from Redis: checked, never trusted).
    public init(json bytes: [UInt8]) throws(SpreadStoreError) {
        guard case .object(let object)? = try? JSONParser.parse(bytes) else { throw SpreadStoreError("episode is not a JSON object") }
        guard case .string(let book)? = object["book"], BookQuote.isValidBook(book) else { throw SpreadStoreError("episode without a valid book") }
        guard case .string(let stateText)? = object["state"], let state = State(rawValue: stateText) else { throw SpreadStoreError("episode without a state") }
        guard case .number(let threshold)? = object["threshold_pct"], let thresholdPct = DecimalNumber(threshold),
            case .number(let peak)? = object["peak_spread_pct"], let peakSpreadPct = DecimalNumber(peak)
        else { throw SpreadStoreError("episode without threshold_pct or peak_spread_pct") }
        guard case .string(let started)? = object["started_at"], let startedAt = Timestamp(iso8601: started) else {
            throw SpreadStoreError("episode without started_at")
        }
        var endedAt: Timestamp?
        if case .string(let ended)? = object["ended_at"] {
            guard let time = Timestamp(iso8601: ended) else { throw SpreadStoreError("episode with a malformed ended_at") }
            endedAt = time
        }
        guard (state == .closed) == (endedAt != nil) else { throw SpreadStoreError("episode state \(stateText) disagrees with ended_at") }
        self.init(book: book, state: state, thresholdPct: thresholdPct, startedAt: startedAt, endedAt: endedAt, peakSpreadPct: peakSpreadPct)
    }
}

/// Stored spread data that is not what the monitor writes.
public struct SpreadStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public let detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { "corrupt spread data: \(detail)" }
}
