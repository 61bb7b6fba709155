/// Why a JSON document could not be parsed, with the byte offset where parsing stopped.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// A strict RFC 8259 parser over UTF-8 bytes. It exists because Foundation's parsers turn
/// numbers into `Double`, which loses the upstream's digits.
public enum JSONParser {
    /// Nesting deeper than this is refused, so hostile input cannot exhaust the stack.
    static let maxDepth = 512

    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        try parse(bytes, keeping: .everything)
    }

    /// Parses the whole document but builds only the members `filter` keeps; the rest is
    /// checked for syntax and skipped without being materialised. A fetcher keeps just what its
    /// config's paths reach, which spares most of a large listing's allocations.
    public static func parse(_ bytes: [UInt8], keeping filter: JSONKeyFilter) throws(JSONSyntaxError) -> JSONValue {
        do {
            return try bytes.withUnsafeBufferPointer { buffer in
                var reader = Reader(bytes: buffer)
                reader.skipWhitespace()
                let value = try reader.parseValue(depth: 0, filter: filter)
                reader.skipWhitespace()
                guard reader.position == buffer.count else { throw reader.error("unexpected data after the document") }
                return value
            }
        } catch let error as JSONSyntaxError {
            throw error
        } catch {
            throw JSONSyntaxError(offset: 0, reason: "\(error)")
        }
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var position = 0

        func error(_ reason: String) -> JSONSyntaxError {
            JSONSyntaxError(offset: position, reason: reason)
        }

        mutating func skipWhitespace() {
            while position < bytes.count {
                switch bytes[position] {
                case 0x20, 0x0A, 0x0D, 0x09: position += 1
                default: return
                }
            }
        }

        mutating func parseValue(depth: Int, filter: JSONKeyFilter = .everything) throws(JSONSyntaxError) -> JSONValue {
            guard depth < JSONParser.maxDepth else { throw error("nesting too deep") }
            guard position < bytes.count else { throw error("unexpected end of data") }
            switch bytes[position] {
            case UInt8(ascii: "{"): return try parseObject(depth: depth, filter: filter)
            case UInt8(ascii: "["): return try parseArray(depth: depth, filter: filter)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
            case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
            case UInt8(ascii: "n"): try expectWord("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw error("unexpected character")
            }
        }

        mutating func expectWord(_ word: StaticString) throws(JSONSyntaxError) {
            let count = word.utf8CodeUnitCount
            guard position + count <= bytes.count else { throw error("unexpected end of data") }
            let start = word.utf8Start
            for offset in 0..<count where bytes[position + offset] != start[offset] {
                throw error("invalid literal")
            }
            position += count
        }

        /// Checks one value's syntax and moves past it, building nothing.
        mutating func skipValue(depth: Int) throws(JSONSyntaxError) {
            guard depth < JSONParser.maxDepth else { throw error("nesting too deep") }
            guard position < bytes.count else { throw error("unexpected end of data") }
            switch bytes[position] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let close = bytes[position] == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
                let isObject = close == UInt8(ascii: "}")
                position += 1
                skipWhitespace()
                if position < bytes.count, bytes[position] == close {
                    position += 1
                    return
                }
                while true {
                    skipWhitespace()
                    if isObject {
                        guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                        try skipString()
                        skipWhitespace()
                        guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
                        position += 1
                        skipWhitespace()
                    }
                    try skipValue(depth: depth + 1)
                    skipWhitespace()
                    guard position < bytes.count else { throw error("unexpected end of data") }
                    if bytes[position] == UInt8(ascii: ",") {
                        position += 1
                    } else if bytes[position] == close {
                        position += 1
                        return
                    } else {
                        throw error(isObject ? "expected ',' or '}'" : "expected ',' or ']'")
                    }
                }
            case UInt8(ascii: "\""): try skipString()
            default: _ = try parseValue(depth: depth)
            }
        }

        /// Moves past a string, checking escapes and control characters.
        mutating func skipString() throws(JSONSyntaxError) {
            position += 1
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    return
                }
                if byte < 0x20 { throw error("control character in string") }
                if byte == UInt8(ascii: "\\") {
                    guard position + 1 < bytes.count else { throw error("unexpected end of data") }
                    switch bytes[position + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                        UInt8(ascii: "r"), UInt8(ascii: "t"):
                        position += 2
                        continue
                    case UInt8(ascii: "u"):
                        // Four hex digits are syntax; what they encode (surrogate pairing) is not checked here.
                        position += 2
                        _ = try parseHex4()
                        continue
                    default:
                        position += 1
                        throw error("invalid escape")
                    }
                }
                position += 1
            }
            throw error("unterminated string")
        }

        mutating func parseObject(depth: Int, filter: JSONKeyFilter) throws(JSONSyntaxError) -> JSONValue {
            position += 1
            var object = JSONObject()
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(object)
            }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                let key = try parseString()
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else { throw error("expected ':'") }
                position += 1
                skipWhitespace()
                if let memberFilter = filter.member(key) {
                    object.append(key, try parseValue(depth: depth + 1, filter: memberFilter))
                } else {
                    try skipValue(depth: depth + 1)
                }
                skipWhitespace()
                guard position < bytes.count else { throw error("unexpected end of data") }
                switch bytes[position] {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"): position += 1; return .object(object)
                default: throw error("expected ',' or '}'")
                }
            }
        }

        mutating func parseArray(depth: Int, filter: JSONKeyFilter) throws(JSONSyntaxError) -> JSONValue {
            position += 1
            var elements: [JSONValue] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(elements)
            }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth + 1, filter: filter))
                skipWhitespace()
                guard position < bytes.count else { throw error("unexpected end of data") }
                switch bytes[position] {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "]"): position += 1; return .array(elements)
                default: throw error("expected ',' or ']'")
                }
            }
        }

        mutating func parseNumber() throws(JSONSyntaxError) -> String {
            let start = position
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
            if bytes[position] == UInt8(ascii: "0") {
                position += 1
            } else {
                skipDigits()
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
                skipDigits()
            }
            if position < bytes.count, bytes[position] | 0x20 == UInt8(ascii: "e") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") { position += 1 }
                guard position < bytes.count, isDigit(bytes[position]) else { throw error("invalid number") }
                skipDigits()
            }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        mutating func skipDigits() {
            while position < bytes.count, isDigit(bytes[position]) { position += 1 }
        }

        mutating func parseString() throws(JSONSyntaxError) -> String {
            position += 1
            let start = position
            // Fast path: no escapes, so the bytes between the quotes are the string.
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<position])
                    position += 1
                    return try validatedString(slice, at: start)
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw error("control character in string") }
                position += 1
            }
            var scalars: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[start..<position]))
            while position < bytes.count {
                let byte = bytes[position]
                switch byte {
                case UInt8(ascii: "\""):
                    position += 1
                    return try scalars.withUnsafeBufferPointer { buffer throws(JSONSyntaxError) in try validatedString(buffer, at: start) }
                case UInt8(ascii: "\\"):
                    position += 1
                    guard position < bytes.count else { throw error("unexpected end of data") }
                    let escape = bytes[position]
                    position += 1
                    switch escape {
                    case UInt8(ascii: "\""): scalars.append(0x22)
                    case UInt8(ascii: "\\"): scalars.append(0x5C)
                    case UInt8(ascii: "/"): scalars.append(0x2F)
                    case UInt8(ascii: "b"): scalars.append(0x08)
                    case UInt8(ascii: "f"): scalars.append(0x0C)
                    case UInt8(ascii: "n"): scalars.append(0x0A)
                    case UInt8(ascii: "r"): scalars.append(0x0D)
                    case UInt8(ascii: "t"): scalars.append(0x09)
                    case UInt8(ascii: "u"): appendUTF8(try parseUnicodeEscape(), to: &scalars)
                    default: throw error("invalid escape")
                    }
                default:
                    if byte < 0x20 { throw error("control character in string") }
                    scalars.append(byte)
                    position += 1
                }
            }
            throw error("unterminated string")
        }

        func validatedString(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) throws(JSONSyntaxError) -> String {
            guard let string = String(validating: bytes, as: UTF8.self) else {
                throw JSONSyntaxError(offset: offset, reason: "string is not valid UTF-8")
            }
            return string
        }

        mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
            guard position + 4 <= bytes.count else { throw error("unexpected end of data") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[position]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("invalid \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        mutating func parseUnicodeEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
            let first = try parseHex4()
            if (0xD800...0xDBFF).contains(first) {
                guard position + 2 <= bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                    throw error("unpaired surrogate")
                }
                position += 2
                let second = try parseHex4()
                guard (0xDC00...0xDFFF).contains(second) else { throw error("unpaired surrogate") }
                let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                guard let scalar = Unicode.Scalar(combined) else { throw error("invalid code point") }
                return scalar
            }
            guard let scalar = Unicode.Scalar(first) else { throw error("unpaired surrogate") }
            return scalar
        }

        func appendUTF8(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
            bytes.append(contentsOf: UTF8.encode(scalar)!)
        }
    }
}
