/// A location inside an upstream JSON document, written in the configs' small path
/// language: dot-separated keys, `[N]` for an array index, and `[KEY=VALUE]` for the first
/// array element whose member KEY equals VALUE (`ASSET_ALTERNATIVE_IDS[NAME=CMC].ID`); `$`
/// alone is the whole document (CoinGecko's `/exchanges` answers a bare array).
public struct FieldPath: Sendable, Equatable, CustomStringConvertible {
    public enum Step: Sendable, Equatable {
        case key(String)
        case index(Int)
        case match(key: String, value: String)
    }

    public let steps: [Step]
    public let description: String

    /// Why a path text is not a valid path, with the character offset of the problem.
    public struct SyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "\(reason) at character \(offset + 1)" }
    }

    public init(parsing text: String) throws(SyntaxError) {
        let characters = Array(text)
        var steps: [Step] = []
        var index = 0
        func fail(_ reason: String) -> SyntaxError { SyntaxError(offset: index, reason: reason) }
        guard !characters.isEmpty else { throw SyntaxError(offset: 0, reason: "empty path") }
        guard text != "$" else {
            self.steps = []
            self.description = text
            return
        }
        var expectKey = true
        while index < characters.count {
            let character = characters[index]
            if character == "[" {
                index += 1
                guard let close = characters[index...].firstIndex(of: "]") else { throw fail("unclosed '['") }
                let inside = String(characters[index..<close])
                if let equals = inside.firstIndex(of: "=") {
                    let key = String(inside[..<equals])
                    let value = String(inside[inside.index(after: equals)...])
                    guard !key.isEmpty, !key.contains("["), !value.contains("[") else { throw fail("expected [KEY=VALUE]") }
                    steps.append(.match(key: key, value: value))
                } else {
                    guard !inside.isEmpty, inside.allSatisfy(\.isASCIIDigit), let number = Int(inside) else {
                        throw fail("expected an array index or KEY=VALUE inside '[...]'")
                    }
                    steps.append(.index(number))
                }
                index = close + 1
                expectKey = false
                if index < characters.count {
                    guard characters[index] == "." || characters[index] == "[" else { throw fail("expected '.' or '[' after ']'") }
                    if characters[index] == "." {
                        index += 1
                        guard index < characters.count else { throw fail("path ends with '.'") }
                        expectKey = true
                    }
                }
            } else if expectKey {
                var key = ""
                while index < characters.count, characters[index] != ".", characters[index] != "[" {
                    if characters[index] == "]" { throw fail("unexpected ']'") }
                    key.append(characters[index])
                    index += 1
                }
                guard !key.isEmpty else { throw fail("empty key") }
                steps.append(.key(key))
                expectKey = false
                if index < characters.count, characters[index] == "." {
                    index += 1
                    guard index < characters.count else { throw fail("path ends with '.'") }
                    expectKey = true
                }
            } else {
                throw fail("unexpected '\(character)'")
            }
        }
        self.steps = steps
        self.description = text
    }

    /// The value at this path, or nil when any step does not exist (missing key, index out of
    /// range, no element matches, or a step applied to the wrong kind of value).
    public func resolve(in root: JSONValue) -> JSONValue? {
        var current = root
        for step in steps {
            switch (step, current) {
            case (.key(let key), .object(let object)):
                guard let next = object[key] else { return nil }
                current = next
            case (.index(let index), .array(let elements)):
                guard elements.indices.contains(index) else { return nil }
                current = elements[index]
            case (.match(let key, let value), .array(let elements)):
                guard let next = elements.first(where: { FieldPath.matches($0[key], value) }) else { return nil }
                current = next
            default:
                return nil
            }
        }
        return current
    }

    /// `[KEY=VALUE]` compares against the member's text, so it matches `"CMC"` and `1`
    /// written either as a string or a number.
    static func matches(_ member: JSONValue?, _ value: String) -> Bool {
        switch member {
        case .string(let text): text == value
        case .number(let literal): literal == value
        case .bool(let flag): (flag ? "true" : "false") == value
        default: false
        }
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
