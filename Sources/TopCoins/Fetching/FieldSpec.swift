/// One output field of a fetcher config: where to find it in an upstream record, and what
/// type it must have to be published.
public struct FieldSpec: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case integer, string, decimal, boolean, timestamp
    }

    public let name: String
    public let path: FieldPath
    public let kind: Kind
    public let nullable: Bool

    public init(name: String, path: FieldPath, kind: Kind, nullable: Bool = false) {
        self.name = name
        self.path = path
        self.kind = kind
        self.nullable = nullable
    }

    /// Why a record's field could not be published.
    public enum Problem: String, Sendable {
        case missing, invalid
    }

    /// The published value of this field in `record`: a JSON value of the field's type, `null`
    /// for an absent nullable field, or the problem that makes the record unpublishable.
    public func extract(from record: JSONValue) -> Result<JSONValue, ProblemError> {
        guard let raw = path.resolve(in: record), raw != .null else {
            return nullable ? .success(.null) : .failure(ProblemError(problem: .missing))
        }
        guard let value = kind.coerce(raw) else {
            return .failure(ProblemError(problem: .invalid))
        }
        return .success(value)
    }

    public struct ProblemError: Error, Sendable { public let problem: Problem }
}

extension FieldSpec.Kind {
    /// Converts an upstream value to this type's published form, or nil when it does not fit:
    /// - integer: a JSON integer or an integer-valued string (`"1"`),
    /// - decimal: a JSON number or numeric string, kept digit for digit in plain notation,
    /// - string: a JSON string,
    /// - boolean: `true`/`false` or the strings `"true"`/`"false"`,
    /// - timestamp: ISO-8601 text or unix seconds, published as ISO-8601 UTC with milliseconds.
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
        default:
            return nil
        }
    }
}
