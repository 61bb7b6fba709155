/// One output field of a fetcher config: where to find it in an upstream record, and what
/// type it must have to be published.
public struct FieldSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case integer, string, decimal, boolean, timestamp
        /// Unix milliseconds (CoinGecko's market charts), published as `timestamp` is.
        case timestampMilliseconds = "timestamp_ms"
    }

    public let name: String
    public let path: FieldPath
    public let kind: Kind
    public let nullable: Bool
    /// Only a value above zero counts: CryptoCompare pads the days before a coin existed with
    /// zero candles, which must be skipped rather than stored as prices.
    public let positive: Bool
    /// The best of an array's values instead of one value (`max_of`/`min_of`): `path` names
    /// the array (a side of an order book), `member` each element's value (its price).
    public let best: Best?

    /// The largest or smallest of each element's `member`, compared as exact decimals: an
    /// upstream's own sort order is not trusted.
    public struct Best: Sendable, Equatable {
        public enum Order: String, Sendable {
            case largest = "max_of"
            case smallest = "min_of"
        }

        public let order: Order
        public let member: FieldPath

        public init(_ order: Order, of member: FieldPath) {
            self.order = order
            self.member = member
        }

        /// The best value of `elements`: nil when there are none, `.invalid` when any
        /// element's member is not a decimal (a malformed level makes the side unreadable).
        func pick(_ elements: [JSONValue]) -> Result<DecimalNumber?, ProblemError> {
            var best: DecimalNumber?
            for element in elements {
                let value: DecimalNumber?
                switch member.resolve(in: element) {
                case .number(let text), .string(let text): value = DecimalNumber(text)
                default: value = nil
                }
                guard let value else { return .failure(ProblemError(problem: .invalid)) }
                if let current = best, order == .largest ? value <= current : value >= current { continue }
                best = value
            }
            return .success(best)
        }
    }

    public init(name: String, path: FieldPath, kind: Kind, nullable: Bool = false, positive: Bool = false, best: Best? = nil) {
        self.name = name
        self.path = path
        self.kind = kind
        self.nullable = nullable
        self.positive = positive
        self.best = best
    }

    /// Why a record's field could not be published.
    public enum Problem: String, Sendable {
        case missing, invalid
        case notPositive = "not_positive"
    }

    /// The published value of this field in `record`: a JSON value of the field's type, `null`
    /// for an absent nullable field, or the problem that makes the record unpublishable.
    public func extract(from record: JSONValue) -> Result<JSONValue, ProblemError> {
        guard var raw = path.resolve(in: record), raw != .null else {
            return absent
        }
        if let best {
            guard case .array(let elements) = raw else { return .failure(ProblemError(problem: .invalid)) }
            switch best.pick(elements) {
            case .success(let picked?): raw = .number(picked.text)
            case .success(nil): return absent
            case .failure(let problem): return .failure(problem)
            }
        }
        guard let value = kind.coerce(raw) else {
            return .failure(ProblemError(problem: .invalid))
        }
        if positive {
            guard case .number(let text) = value, let number = DecimalNumber(text), FieldSpec.zero < number else {
                return .failure(ProblemError(problem: .notPositive))
            }
        }
        return .success(value)
    }

    /// A value that is not there: `null` when the field may be, else the record is skipped.
    var absent: Result<JSONValue, ProblemError> {
        nullable ? .success(.null) : .failure(ProblemError(problem: .missing))
    }

    public struct ProblemError: Error, Sendable { public let problem: Problem }

    static let zero = DecimalNumber("0")!
}

extension FieldSpec.Kind {
    /// Converts an upstream value to this type's published form, or nil when it does not fit:
    /// - integer: a JSON integer or an integer-valued string (`"1"`),
    /// - decimal: a JSON number or numeric string, kept digit for digit in plain notation,
    /// - string: a JSON string,
    /// - boolean: `true`/`false` or the strings `"true"`/`"false"`,
    /// - timestamp: ISO-8601 text or unix seconds, published as ISO-8601 UTC with milliseconds,
    /// - timestamp_ms: unix milliseconds, a JSON integer or integer string, published likewise.
    public func coerce(_ value: JSONValue) -> JSONValue? {
        switch (self, value) {
        case (.integer, .number(let text)), (.integer, .string(let text)):
            guard let number = DecimalNumber(text)?.integerValue else { return nil }
            return .number(String(number))
        case (.decimal, .number(let text)), (.decimal, .string(let text)):
            guard let number = DecimalNumber(text) else { return nil }
            return .number(number.text)
        case (.string, .string):
            return value
        case (.boolean, .bool):
            return value
        case (.boolean, .string(let text)):
            switch text {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default: return nil
            }
        case (.timestamp, .number(let text)):
            return Timestamp(unixSeconds: text).map { .string($0.iso8601) }
        case (.timestamp, .string(let text)):
            return (Timestamp(iso8601: text) ?? Timestamp(unixSeconds: text)).map { .string($0.iso8601) }
        case (.timestampMilliseconds, .number(let text)), (.timestampMilliseconds, .string(let text)):
            return Int64(text).flatMap { Timestamp(plausible: $0) }.map { .string($0.iso8601) }
        default:
            return nil
        }
    }
}
