/// A validated request for a top list: `GET /?limit=&datetime=&format=`.
public struct ListQuery: Sendable, Equatable {
    public enum Format: String, Sendable {
        case json, csv
    }

    public let limit: Int
    /// The instant asked for; nil means the latest snapshot.
    public let instant: Timestamp?
    public let format: Format

    /// Parses the raw query string and `Accept` header. Repeated parameters are refused rather
    /// than guessed at; unknown parameters are ignored (cache-busters are common).
    public init(query: String?, accept: String?, defaultLimit: Int, maxLimit: Int, now: Timestamp) throws(APIError) {
        let parameters = QueryParameters(query)
        limit = try parameters.integer("limit", in: 1...maxLimit) ?? defaultLimit
        format = try parameters.format(accept: accept)
        if let instant = try parameters.instant("datetime") {
            guard instant <= now else {
                var error = APIError.invalid("datetime", "datetime must not be in the future")
                error.details = [("now", .string(now.iso8601))]
                throw error
            }
            self.instant = instant
        } else {
            instant = nil
        }
    }

    /// ISO-8601 or unix seconds. A `+` of an offset arrives as a space when the client did not
    /// percent-encode it, so a space in the zone position is read back as `+`.
    static func parseInstant(_ text: String) -> Timestamp? {
        if text.utf8.allSatisfy({ ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: ".") }) {
            return Timestamp(unixSeconds: text)
        }
        if let instant = Timestamp(iso8601: text) { return instant }
        if let space = text.lastIndex(of: " "), text.distance(from: text.startIndex, to: space) >= 16 {
            var repaired = text
            repaired.replaceSubrange(space...space, with: "+")
            return Timestamp(iso8601: repaired)
        }
        return nil
    }

    /// CSV when `Accept` prefers `text/csv` over JSON; JSON otherwise.
    static func negotiate(accept: String?) -> Format {
        guard let accept else { return .json }
        var csv = -1.0
        var json = -1.0
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: " \t") }
            guard let type = parts.first?.lowercased() else { continue }
            var quality = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                quality = Double(parameter.dropFirst(2)) ?? 0
            }
            switch type {
            case "text/csv": csv = max(csv, quality)
            case "application/json": json = max(json, quality)
            default: break
            }
        }
        return csv > 0 && csv > json ? .csv : .json
    }
}

/// `application/x-www-form-urlencoded` query strings, keeping repeated names.
enum QueryString {
    static func parse(_ query: String) -> [(name: String, value: String)] {
        query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: "=") {
                return (decode(pair[..<equals]), decode(pair[pair.index(after: equals)...]))
            }
            return (decode(pair), "")
        }
    }

    /// Percent-decoding, with `+` as space unless `plusAsSpace` is false (as in a path, where
    /// `+` is itself); a malformed escape is kept as written.
    static func decode(_ text: Substring, plusAsSpace: Bool = true) -> String {
        var bytes: [UInt8] = []
        let utf8 = Array(text.utf8)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if plusAsSpace, byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < utf8.count,
                let value = UInt8(String(decoding: utf8[index + 1...index + 2], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index += 2
            } else {
                bytes.append(byte)
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
