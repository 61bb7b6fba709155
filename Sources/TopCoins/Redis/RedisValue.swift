/// One RESP2 reply. Bulk strings stay bytes: snapshots are binary.
public enum RedisValue: Sendable, Equatable {
    case null
    case status(String)
    case bulk([UInt8])
    case integer(Int)
    case array([RedisValue])
    case error(String)

    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .status(let text): Array(text.utf8)
        default: nil
        }
    }

    public var string: String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    public var int: Int? {
        switch self {
        case .integer(let value): value
        case .bulk, .status: string.flatMap { Int($0) }
        default: nil
        }
    }

    public var array: [RedisValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// A flat `[field, value, field, value, ...]` reply (`HGETALL`) as a dictionary.
    public var fieldMap: [String: String] {
        let flat = array ?? []
        var result: [String: String] = [:]
        var index = 0
        while index + 1 < flat.count {
            result[flat[index].string ?? ""] = flat[index + 1].string ?? ""
            index += 2
        }
        return result
    }
}

/// An argument of a Redis command: text or raw bytes, sent binary-safe.
public struct RedisArgument: Sendable, ExpressibleByStringLiteral, ExpressibleByStringInterpolation {
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { self.bytes = Array(text.utf8) }
    public init(_ number: Int) { self.bytes = Array(String(number).utf8) }
    public init(_ number: Int64) { self.bytes = Array(String(number).utf8) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(stringInterpolation: DefaultStringInterpolation) { self.init(String(stringInterpolation: stringInterpolation)) }
}

/// Why a Redis command failed.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Connecting, or the connection broke; the client reconnects on the next command.
    case connection(String)
    /// The server answered with an error reply (`ERR ...`, `NOGROUP ...`, `WRONGTYPE ...`).
    case server(String)
    /// A reply of a shape the command does not produce.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .connection(let message): "Redis connection: \(message)"
        case .server(let message): "Redis: \(message)"
        case .unexpectedReply(let message): "unexpected Redis reply: \(message)"
        }
    }

    /// Redis refused a write for `maxmemory` (`OOM command not allowed ...`).
    public var isOutOfMemory: Bool { serverCode == "OOM" }

    /// A stable name for logs and status: `redis_oom` for out of memory, else `redis`.
    public var reason: String { isOutOfMemory ? "redis_oom" : "redis" }

    /// The error code at the start of a server error (`NOGROUP`, `BUSYGROUP`, `NOSCRIPT`).
    public var serverCode: String? {
        guard case .server(let message) = self else { return nil }
        return message.split(separator: " ", maxSplits: 1).first.map(String.init)
    }
}
