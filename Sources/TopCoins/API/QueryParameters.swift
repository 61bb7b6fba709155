/// A query string's parameters with the rules every route shares: a repeated parameter is
/// refused rather than guessed at, unknown ones are ignored (cache-busters are common), times
/// take every form `datetime` takes.
struct QueryParameters {
    let pairs: [(name: String, value: String)]

    init(_ query: String?) {
        pairs = QueryString.parse(query ?? "")
    }

    func single(_ name: String) throws(APIError) -> String? {
        let values = pairs.filter { $0.name == name }
        guard values.count <= 1 else { throw .invalid(name, "\(name) must be given at most once") }
        return values.first?.value
    }

    func instant(_ name: String) throws(APIError) -> Timestamp? {
        guard let text = try single(name) else { return nil }
        guard let instant = ListQuery.parseInstant(text) else {
            throw .invalid(name, "\(name) must be ISO-8601 (2024-05-14T06:10:00Z, with an offset, or a date 2024-05-14) or unix seconds")
        }
        return instant
    }

    /// `format` (any case), else what `Accept` prefers.
    func format(accept: String?) throws(APIError) -> ListQuery.Format {
        guard let text = try single("format") else { return ListQuery.negotiate(accept: accept) }
        guard let format = ListQuery.Format(rawValue: text.lowercased()) else { throw .invalid("format", "format must be json or csv") }
        return format
    }

    /// An integer in `range`, or nil when absent.
    func integer(_ name: String, in range: ClosedRange<Int>) throws(APIError) -> Int? {
        guard let text = try single(name) else { return nil }
        guard let value = QueryParameters.integer(text, in: range) else { throw .invalid(name, "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)") }
        return value
    }

    /// `text` as an integer in `range`, written in plain digits (no sign, space or exponent).
    static func integer(_ text: some StringProtocol, in range: ClosedRange<Int>) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 9, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }), let value = Int(text),
            range.contains(value)
        else { return nil }
        return value
    }
}
