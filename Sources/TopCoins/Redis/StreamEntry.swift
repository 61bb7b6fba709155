/// One entry of a Redis stream.
public struct StreamEntry: Sendable, Equatable {
    public let id: String
    public let fields: [(name: String, value: [UInt8])]

    public init(id: String, fields: [(name: String, value: [UInt8])]) {
        self.id = id
        self.fields = fields
    }

    public func field(_ name: String) -> [UInt8]? { fields.first { $0.name == name }?.value }
    public func text(_ name: String) -> String? { field(name).map { String(decoding: $0, as: UTF8.self) } }

    public static func == (lhs: StreamEntry, rhs: StreamEntry) -> Bool {
        lhs.id == rhs.id && lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }

    /// Parses `[id, [field, value, ...]]`; entries deleted while pending come back with a nil body.
    static func parse(_ value: RedisValue) throws(RedisError) -> StreamEntry? {
        guard let pair = value.array, pair.count == 2, let id = pair[0].string else {
            throw .unexpectedReply("stream entry \(value)")
        }
        guard let flat = pair[1].array else { return nil }
        var fields: [(name: String, value: [UInt8])] = []
        var index = 0
        while index + 1 < flat.count {
            fields.append((flat[index].string ?? "", flat[index + 1].bytes ?? []))
            index += 2
        }
        return StreamEntry(id: id, fields: fields)
    }

    static func parseList(_ value: RedisValue) throws(RedisError) -> [StreamEntry] {
        guard let entries = value.array else {
            if value == .null { return [] }
            throw .unexpectedReply("stream entries \(value)")
        }
        var result: [StreamEntry] = []
        for entry in entries {
            if let parsed = try parse(entry) { result.append(parsed) }
        }
        return result
    }
}
