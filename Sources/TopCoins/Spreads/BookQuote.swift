/// One book's best prices as the book fetcher publishes them on `topcoins:books` (one record
/// per message: `book`, `bid`, `ask`, `sequence`, `updated_at`). Anything else in a record
/// is a `BookQuote.Invalid`, which the monitor skips and counts.
public struct BookQuote: Sendable, Equatable {
    public let book: String
    /// The best bid, nil when no one bids.
    public let bid: DecimalNumber?
    /// The best ask, nil when no one asks.
    public let ask: DecimalNumber?
    public let sequence: Int64
    /// The upstream's own time for this state of the book.
    public let updatedAt: Timestamp

    public init(book: String, bid: DecimalNumber?, ask: DecimalNumber?, sequence: Int64, updatedAt: Timestamp) {
        self.book = book
        self.bid = bid
        self.ask = ask
        self.sequence = sequence
        self.updatedAt = updatedAt
    }

    /// Why a record is not a quote; `reason` is the counter's name.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public let detail: String
        public var description: String { "\(reason): \(detail)" }
    }

    /// A book name as Bitso spells them (`btc_mxn`): it becomes part of Redis keys, answers
    /// and export folder names, so nothing else is accepted.
    public static func isValidBook(_ name: some StringProtocol) -> Bool {
        (1...32).contains(name.utf8.count)
            && name.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "_") }
    }

    public init(record: JSONObject) throws(Invalid) {
        guard case .string(let book)? = record["book"] else { throw Invalid(reason: "invalid_book", detail: "no book name") }
        guard BookQuote.isValidBook(book) else { throw Invalid(reason: "invalid_book", detail: "book \"\(book.prefix(40))\" is not 1 to 32 of a-z, 0-9, _") }
        self.book = book
        bid = try BookQuote.price(record["bid"], side: "bid")
        ask = try BookQuote.price(record["ask"], side: "ask")
        guard case .number(let sequenceText)? = record["sequence"], let sequence = Int64(sequenceText), sequence >= 0 else {
            throw Invalid(reason: "invalid_sequence", detail: "sequence is not a non-negative 64-bit integer")
        }
        self.sequence = sequence
        guard case .string(let updatedText)? = record["updated_at"], let updatedAt = Timestamp(iso8601: updatedText),
            updatedAt >= Timestamp.earliestPlausible
        else {
            throw Invalid(reason: "invalid_updated_at", detail: "updated_at is not an ISO-8601 time after 2009")
        }
        self.updatedAt = updatedAt
    }

    /// A side's best price: absent or null is an empty side; otherwise a positive decimal
    /// within `ExactDecimal`'s bounds.
    static func price(_ value: JSONValue?, side: String) throws(Invalid) -> DecimalNumber? {
        switch value {
        case nil, .null?:
            return nil
        case .number(let text)?:
            guard let price = DecimalNumber(text), let (units, _) = ExactDecimal.units(price), units > 0 else {
                throw Invalid(reason: "invalid_price", detail: "\(side) \(text.prefix(40)) is not a positive decimal of at most 24 digits and 18 decimals")
            }
            return price
        default:
            throw Invalid(reason: "invalid_price", detail: "\(side) is not a number")
        }
    }
}
